// `screener rank-descriptors --data DIR MODEL...`: ranks models by their descriptor's healthy kNN tail
// (src/eval/healthy-knn-tail.ts) on unlabelled scans, lowest first. The descriptor's starting draw
// decides much of what a trained model sees (bench/RESULTS.md); this chooses among seeds without any
// lesion mask, so a held-out claim stays clean. Every model file is read and checked, and the scans are
// preprocessed once per distinct preprocessing, before the GPU starts; each model's descriptor then maps
// each scan whole, and the kNN search runs on the CPU.
import { intOption, stringOption, UsageError } from '../args';
import { defineCommand } from '../command';
import { DataError } from '../../data/errors';
import { listCases } from '../../data/io/dataset.node';
import { PreprocessedCache } from '../../data/preprocess/cache.node';
import type { Shape3 } from '../../data/geometry/volume';
import { healthyKnnTail, TAIL_DEFAULTS, type ScanDescriptors } from '../../eval/healthy-knn-tail';
import { nodeRuntime } from '../../gpu/node';
import { configPreprocessing } from '../../model/config';
import { descriptorFeatures } from '../../model/descriptor-features';
import { readScreenerFile } from '../../model/predict-load.node';
import { Screener } from '../../model/screener';
import { defaultCacheDir } from '../../train/scans.node';
import { counted } from '../../data/counted';

const DEFAULT_SCANS = 4;

export const rankDescriptors = defineCommand({
  name: 'rank-descriptors',
  summary: "rank models by how evenly their descriptors cover normal tissue (no labels needed; lower is better)",
  synopsis: ['screener rank-descriptors --data DIR [--scans N] [--seed S] [--cache DIR] MODEL...'],
  options: {
    data: { type: 'string', value: 'DIR', description: 'scans to measure on, one folder per case holding ct.nii.gz, healthy if possible (lesion masks are never read)' },
    scans: { type: 'string', value: 'N', description: 'the first N cases of DIR (at least 2)', default: DEFAULT_SCANS },
    seed: { type: 'string', value: 'S', description: 'seeds the voxels sampled from each scan', default: TAIL_DEFAULTS.seed },
    cache: { type: 'string', value: 'DIR', description: 'cache of preprocessed scans', default: `${defaultCacheDir()}, as train's` },
  },
  positionals: true,
  notes: [
    `Per scan, ${TAIL_DEFAULTS.queries} body voxels are matched against ${TAIL_DEFAULTS.bank} body voxels of the next scan ` +
      `(the last against the first): a voxel's rarity is the mean distance to its ${TAIL_DEFAULTS.k} nearest descriptors there. ` +
      `The tail is the ${TAIL_DEFAULTS.quantile * 100}th percentile of the rarities over their median, averaged over the scans. ` +
      'A lower tail means normal tissue looks rare less often. Trained by the PyTorch reference on the same data, descriptors with a ' +
      'lower tail found the phantoms\' unseen lesion kind better, and full models on them were somewhat worse on the trained kinds; ' +
      'on ten of the engine\'s own seeds the link is weak and not significant (bench/RESULTS.md, "Choosing a descriptor without labels").',
    'Give it scans with as little pathology as there is: a lesion counts as rare tissue and raises the tail of the descriptors that see it.',
    'Each descriptor maps each scan whole, so GPU memory grows with the scan at the model\'s voxel size.',
  ],
  async execute(args) {
    const data = stringOption(args, 'data');
    if (!data) throw new UsageError('--data is required');
    const count = intOption(args, 'scans', DEFAULT_SCANS);
    if (count < 2) throw new UsageError(`--scans must be at least 2, got ${count}`);
    const seed = intOption(args, 'seed', TAIL_DEFAULTS.seed);
    if (seed < 0) throw new UsageError(`--seed must be non-negative, got ${seed}`);
    if (args.positionals.length === 0) throw new UsageError('at least one MODEL is required');
    const entries = listCases(data).slice(0, count);
    if (entries.length < 2) throw new DataError(data, `needs at least 2 cases, found ${entries.length}`);
    const files = args.positionals.map((path) => {
      const weights = readScreenerFile(path);
      const preprocessing = configPreprocessing(weights.config);
      return { path, weights, preprocessing, preprocessingKey: JSON.stringify(preprocessing) };
    });
    // Models of the same voxel size and window share their scans: each is read and preprocessed once,
    // and a scan that cannot be read stops the command before the GPU starts.
    const cacheDir = stringOption(args, 'cache') ?? defaultCacheDir();
    const scansFor = new Map<string, { id: string; image: { data: Float32Array; shape: Shape3 }; body: Uint8Array }[]>();
    for (const { preprocessing, preprocessingKey } of files) {
      if (scansFor.has(preprocessingKey)) continue;
      const cache = new PreprocessedCache(cacheDir, preprocessing, false);
      scansFor.set(preprocessingKey, entries.map((entry) => {
        const { scan } = cache.get({ ...entry, lesionPath: undefined });
        return { id: entry.id, image: { data: scan.image.data, shape: scan.image.shape }, body: scan.body.data };
      }));
    }
    console.log(`healthy kNN tail on ${counted(entries.length, 'scan')} of ${data} (lower: normal tissue covered more evenly)`);
    const runtime = await nodeRuntime();
    const results: { path: string; tail: number; perScan: number[]; trained: boolean }[] = [];
    try {
      for (const { path, weights, preprocessingKey } of files) {
        const model = Screener.fromWeights(runtime, weights, path);
        try {
          const scans: ScanDescriptors[] = [];
          for (const { id, image, body } of scansFor.get(preprocessingKey)!) {
            const features = await descriptorFeatures(runtime, model.descriptor, image);
            scans.push({ id, features, channels: model.config.descriptor.embedding, body });
          }
          // One seed for every model: models of the same voxel size are compared on the same voxels.
          const { tail, perScan } = healthyKnnTail(scans, { seed });
          results.push({ path, tail, perScan: perScan.map((s) => s.tail), trained: weights.trainedStages.has('descriptor') });
          console.log(`  ${path}: ${tail.toFixed(3)}`);
        } finally {
          model.dispose();
        }
      }
    } finally {
      runtime.dispose();
    }
    results.sort((a, b) => a.tail - b.tail);
    console.log(['', '| rank | tail | per scan | descriptor | model |', '|--:|--:|---|---|---|']
      .concat(results.map((r, i) => `| ${i + 1} | ${r.tail.toFixed(3)} | ${r.perScan.map((t) => t.toFixed(2)).join(' ')} | ${r.trained ? 'trained' : 'untrained'} | ${r.path} |`))
      .join('\n'));
    return 0;
  },
});
