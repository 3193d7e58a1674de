// `screener scan-data DIR`: opens every case of a data folder and prints one line per scan, so a
// dataset can be checked (readable, lesion on the CT's grid, geometry and HU a CT can have) before
// training on it.
import { UsageError } from '../args';
import { defineCommand } from '../command';
import { listCases } from '../../data/io/dataset.node';
import { checkSameGrid } from '../../data/geometry/mask-checks';
import { plausibleCtProblem } from '../../data/geometry/plausible-geometry';
import { readNifti } from '../../data/io/files.node';
import { formatMm, summarizeVolume } from '../../data/io/summary';
import { counted } from '../../data/counted';

export const scanData = defineCommand({
  name: 'scan-data',
  summary: 'check every case of a data folder and print one line per scan',
  synopsis: ['screener scan-data DIR'],
  options: {},
  positionals: true,
  notes: [
    'DIR holds one folder per case with ct.nii.gz and optionally lesion.nii.gz (groups of folders allowed). ' +
      'Prints id, shape (D x H x W), spacing (mm), orientation, HU range and lesion voxels, and a note under a scan ' +
      'whose geometry or values cannot be a CT\'s (train and eval leave it out and predict refuses it unless ' +
      '--force-geometry); exits with 1 if any case could not be read.',
  ],
  async execute(args) {
    const root = args.positionals[0];
    if (!root || args.positionals.length > 1) throw new UsageError('exactly one DIR is required');
    const cases = listCases(root);
    let failed = 0;
    let lesionCases = 0;
    let implausible = 0;
    const started = performance.now();
    const width = Math.max(4, ...cases.map((c) => c.id.length));
    console.log(`${'case'.padEnd(width)}  ${'shape'.padEnd(13)}  ${'spacing mm'.padEnd(20)}  orient  ${'HU range'.padEnd(14)}  lesion voxels`);
    for (const entry of cases) {
      try {
        const ct = readNifti(entry.ctPath);
        const s = summarizeVolume(ct);
        let lesion = '-';
        if (entry.lesionPath) {
          const mask = readNifti(entry.lesionPath);
          checkSameGrid(mask, entry.lesionPath, ct, entry.ctPath);
          const m = summarizeVolume(mask);
          if (!m.isMask) throw new Error(`${entry.lesionPath}: not a 0/1 mask (values ${m.range[0]}..${m.range[1]})`);
          lesion = String(m.maskVoxels);
          lesionCases++;
        }
        const line = [entry.id.padEnd(width), s.shape.join('x').padEnd(13), formatMm(s.spacing).padEnd(20), s.orientation.padEnd(6), `${s.range[0]}..${s.range[1]}`.padEnd(14), lesion];
        console.log(line.join('  '));
        const problem = plausibleCtProblem(ct);
        if (problem) {
          implausible++;
          console.log(`${''.padEnd(width)}  note: ${problem}`);
        }
      } catch (error) {
        failed++;
        console.log(`${entry.id.padEnd(width)}  ERROR ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    console.log(`${counted(cases.length, 'case')}, ${lesionCases} with a lesion mask, ${implausible} not plausibly a CT, ${failed} unreadable (${seconds} s)`);
    return failed ? 1 : 0;
  },
});
