// `screener info FILE`: what a NIfTI scan or mask holds, or a Screener model file, or why it cannot be read.
import { UsageError } from '../args';
import { defineCommand } from '../command';
import { readFileBytes, readNifti } from '../../data/io/files.node';
import { formatMm, summarizeVolume } from '../../data/io/summary';
import { STAGES } from '../../model/config';
import { describeConfig } from '../../model/describe';
import { readScreenerWeights } from '../../model/weights';

type Lines = [string, string][];

function scanLines(path: string): Lines {
  const s = summarizeVolume(readNifti(path));
  return [
    ['file', path],
    ['shape', `${s.shape.join(' x ')} (D x H x W)`],
    ['spacing', `${formatMm(s.spacing)} mm`],
    ['type', s.datatype],
    ['orientation', s.orientation],
    s.isMask
      ? ['mask', `${s.maskVoxels} voxels set (${s.maskMl.toFixed(1)} ml)`]
      : ['range', `${s.range[0]} .. ${s.range[1]}${s.datatype.startsWith('int') || s.range[0] < -500 ? ' HU' : ''}`],
  ];
}

/** A model file, read and checked as predict reads it (config, tensor names and shapes, finite values), without a GPU. */
function modelLines(path: string): Lines {
  const { config, state, trainedStages } = readScreenerWeights(readFileBytes(path), path);
  const values = [...state.values()].reduce((sum, t) => sum + t.length, 0);
  const trained = STAGES.filter((stage) => trainedStages.has(stage));
  return [
    ['file', path],
    ['model', describeConfig(config)],
    ['trained', trained.length ? trained.join(', ') : 'no stage (random weights)'],
    ['tensors', `${state.size}, ${values.toLocaleString('en-US')} values, all finite`],
  ];
}

export const info = defineCommand({
  name: 'info',
  summary: 'describe a NIfTI scan or mask (shape, spacing, type, orientation, HU range) or a model file',
  synopsis: ['screener info FILE...'],
  options: {},
  positionals: true,
  notes: [
    'Prints shape and spacing in (D, H, W) = (slice, row, column) order, the voxel type, the orientation code ' +
      'of the file axes (i, j, k), the value range, and for a 0/1 mask the number of voxels set. ' +
      'A .safetensors file is read as a Screener model and checked as predict checks it: its preprocessing, ' +
      'networks and density in one line, the stages trained, and its tensors. ' +
      'Exits with 1 and the reason when a file cannot be read.',
  ],
  async execute(args) {
    if (args.positionals.length === 0) throw new UsageError('a FILE is required');
    for (const path of args.positionals) {
      const lines = path.endsWith('.safetensors') ? modelLines(path) : scanLines(path);
      console.log(lines.map(([k, v]) => `${k.padEnd(12)}${v}`).join('\n'));
    }
    return 0;
  },
});
