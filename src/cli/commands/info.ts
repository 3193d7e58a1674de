// `screener info FILE`: what a NIfTI scan or mask holds, or why it cannot be read.
import { UsageError } from '../args';
import { defineCommand } from '../command';
import { readNifti } from '../../data/io/files.node';
import { formatMm, summarizeVolume } from '../../data/io/summary';

export const info = defineCommand({
  name: 'info',
  summary: 'describe a NIfTI scan or mask (shape, spacing, type, orientation, HU range)',
  synopsis: ['screener info FILE...'],
  options: {},
  positionals: true,
  notes: [
    'Prints shape and spacing in (D, H, W) = (slice, row, column) order, the voxel type, the orientation code ' +
      'of the file axes (i, j, k), the value range, and for a 0/1 mask the number of voxels set. ' +
      'Exits with 1 and the reason when a file cannot be read.',
  ],
  async execute(args) {
    if (args.positionals.length === 0) throw new UsageError('a FILE is required');
    for (const path of args.positionals) {
      const s = summarizeVolume(readNifti(path));
      const lines = [
        ['file', path],
        ['shape', `${s.shape.join(' x ')} (D x H x W)`],
        ['spacing', `${formatMm(s.spacing)} mm`],
        ['type', s.datatype],
        ['orientation', s.orientation],
        s.isMask
          ? ['mask', `${s.maskVoxels} voxels set (${s.maskMl.toFixed(1)} ml)`]
          : ['range', `${s.range[0]} .. ${s.range[1]}${s.datatype.startsWith('int') || s.range[0] < -500 ? ' HU' : ''}`],
      ];
      console.log(lines.map(([k, v]) => `${k!.padEnd(12)}${v}`).join('\n'));
    }
    return 0;
  },
});
