// `screener phantom`: writes synthetic CT cases with lesions (or healthy ones) in the data-folder layout.
import { join } from 'node:path';
import { intOption, stringOption, UsageError } from '../args';
import { defineCommand } from '../command';
import { checkRunPaths } from '../output-paths';
import { generatePhantomCase, phantomCaseName, phantomCaseSeed } from '../../data/phantom/cases';
import { HELD_OUT_LESION_KINDS, LESION_KINDS, TRAINING_LESION_KINDS, type LesionKind } from '../../data/phantom/lesions';
import { writePhantomCase, writeQualitySplits } from '../../data/phantom/write.node';
import { QUALITY_SET_DEFAULTS } from '../../data/phantom/quality-set';
import { counted } from '../../data/counted';

const spec = {
  out: { type: 'string', value: 'DIR', description: 'folder to write DIR/case_NNN/{ct.nii.gz, lesion.nii.gz, lesion_kinds.nii.gz, case.json}' },
  n: { type: 'string', value: 'N', description: 'number of cases', default: 4 },
  seed: { type: 'string', value: 'S', description: 'seed; the same seed gives the same files', default: 0 },
  size: { type: 'string', value: 'V', description: 'typical voxels per side; the seed varies each axis around it', default: 112 },
  kinds: {
    type: 'string',
    value: 'LIST',
    description:
      `comma-separated lesion kinds, "all" or "training": ${LESION_KINDS.join(', ')}; ` +
      `held out from training: ${HELD_OUT_LESION_KINDS.join(', ')}`,
    default: 'all',
  },
  png: { type: 'boolean', description: 'also write montage.png (axial, coronal, sagittal with lesion outlines)' },
  healthy: { type: 'boolean', description: 'cases without lesions (no lesion files)' },
  force: { type: 'boolean', description: 'replace cases already in DIR (without it, an existing DIR/case_NNN/ct.nii.gz is refused)' },
  quality: {
    type: 'boolean',
    description:
      `the quality benchmark's fixed set instead: DIR/test (${QUALITY_SET_DEFAULTS.cases} cases, three lesions of 8-40 mm each, every kind 12 times), ` +
      'DIR/test-source (the same scans without their lesions, for eval --source-data), ' +
      `DIR/healthy (${QUALITY_SET_DEFAULTS.healthy}) and DIR/train (${QUALITY_SET_DEFAULTS.train}, trained kinds); --n and --size change the test count ` +
      'and the grid; the seeds are fixed; cases already there with the same seed and grid are kept',
  },
} as const;

export const phantom = defineCommand({
  name: 'phantom',
  summary: 'write synthetic CT phantoms with lesion masks (NIfTI)',
  synopsis: [
    'screener phantom --out DIR [--n N] [--seed S] [--size VOXELS] [--kinds LIST] [--png] [--healthy] [--force]',
    'screener phantom --out DIR --quality [--n N] [--size VOXELS]',
  ],
  options: spec,
  async execute(args) {
    const out = stringOption(args, 'out');
    if (!out) throw new UsageError('--out is required');
    const n = intOption(args, 'n', spec.n.default);
    const seed = intOption(args, 'seed', spec.seed.default);
    const size = intOption(args, 'size', spec.size.default);
    if (n < 1) throw new UsageError('--n must be at least 1');
    if (size < 24 || size > 512) throw new UsageError('--size must be between 24 and 512');
    if (args.options.quality === true) {
      if (args.options.seed !== undefined || args.options.kinds !== undefined || args.options.healthy !== undefined) {
        throw new UsageError('--quality is a fixed set: leave out --seed, --kinds and --healthy');
      }
      // The fixed set is meant to be written again over itself: same-seed cases are kept, others replaced.
      checkRunPaths({ inputs: [], outputs: [{ option: '--out', path: out, kind: 'folder' }], force: true });
      const cases = args.options.n === undefined ? QUALITY_SET_DEFAULTS.cases : n;
      const qualitySize = args.options.size === undefined ? QUALITY_SET_DEFAULTS.size : size;
      const targets = ([['test', cases], ['test-source', cases], ['healthy', QUALITY_SET_DEFAULTS.healthy], ['train', QUALITY_SET_DEFAULTS.train]] as const).map(
        ([split, count]) => ({ split, dir: join(out, split), count }),
      );
      const written = writeQualitySplits(targets, qualitySize);
      targets.forEach(({ dir, count }, t) => console.log(`${dir}  ${counted(count, 'case')} (${written[t]!.length} written, the rest already there)`));
      return 0;
    }
    const kinds = parseKinds(stringOption(args, 'kinds') ?? spec.kinds.default);
    const healthy = args.options.healthy === true;
    checkRunPaths({
      inputs: [],
      outputs: [{ option: '--out', path: out, kind: 'folder' }, ...Array.from({ length: n }, (_, i) => ({ option: '--out', path: join(out, phantomCaseName(i), 'ct.nii.gz') }))],
      force: args.options.force === true,
    });
    for (let i = 0; i < n; i++) {
      const started = performance.now();
      const options = { seed, healthy, kinds, size };
      const caseSeed = phantomCaseSeed(seed, i);
      const written = writePhantomCase(join(out, phantomCaseName(i)), generatePhantomCase(options, i), { png: args.options.png === true, seed: caseSeed });
      const seconds = ((performance.now() - started) / 1000).toFixed(1);
      console.log(`${written.dir}  ${counted(written.files.length, 'file')}  ${seconds} s`);
    }
    return 0;
  },
});

function parseKinds(text: string): LesionKind[] {
  if (text === 'all') return [...LESION_KINDS];
  if (text === 'training') return [...TRAINING_LESION_KINDS];
  const kinds = text.split(',').map((k) => k.trim()).filter(Boolean);
  for (const k of kinds) if (!LESION_KINDS.includes(k as LesionKind)) throw new UsageError(`unknown lesion kind "${k}"; known: ${LESION_KINDS.join(', ')}`);
  return kinds as LesionKind[];
}
