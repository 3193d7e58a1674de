// `screener predict`: the anomaly map of one CT, written as NIfTI on the input's grid and affine.
// Everything that can be checked is checked before the GPU starts: the file names (outputs never
// replace inputs or earlier results; the output folder is writable), the scan (readable, a CT's
// geometry, at least one window after preprocessing) and the model (config and every tensor).
import { overlapOption, parseArgs, stringOption, UsageError } from '../args';
import type { Command } from '../command';
import { checkRunPaths, requireSuffix } from '../output-paths';
import { RUNTIME_USAGE, runtimeOption, withRuntime } from '../runtime-option';
import { PendingFile } from '../../data/atomic-write.node';
import { readFileBytes, readNifti } from '../../data/files.node';
import { DataError } from '../../data/errors';
import { ctGeometryProblem, windowFitProblem } from '../../data/plausible-geometry';
import { preprocessCt } from '../../data/preprocess';
import { formatShape, valueRange, voxelCount } from '../../data/volume';
import { ProgressBar } from '../../eval/progress';
import { renderOverlay } from '../../eval/overlay';
import { encodeAnomalyMap } from '../../model/anomaly-file';
import { anomalyOnOriginalGrid, predictPreprocessed, type WindowedMap } from '../../model/predict';
import { readScreenerFile } from '../../model/predict-load.node';
import { describeConfig } from '../../model/describe';
import { Screener } from '../../model/screener';

const spec = {
  model: { type: 'string' },
  in: { type: 'string' },
  out: { type: 'string' },
  png: { type: 'string' },
  overlap: { type: 'string' },
  force: { type: 'boolean' },
  'force-geometry': { type: 'boolean' },
  runtime: { type: 'string' },
} as const;

export const predict: Command = {
  name: 'predict',
  summary: 'write the anomaly map of a CT (NIfTI on the input grid, optional PNG overlay)',
  usage: [
    'usage: screener predict --model MODEL.safetensors --in ct.nii.gz --out anomaly.nii.gz [--png overlay.png] [--overlap F]',
    '                        [--force] [--force-geometry] [--runtime node|chromium]',
    '',
    '  --model M         weights made by `screener train`',
    '  --in FILE         a CT in HU (NIfTI .nii or .nii.gz)',
    '  --out FILE        the anomaly map (.nii or .nii.gz; float32 NLL per voxel), same grid and affine',
    '                    as --in; voxels outside the body get the lowest score inside it',
    '  --png FILE        also a three-view picture (.png): CT, highest scores in red-yellow',
    '  --overlap F       overlap of the sliding windows (default 0.5)',
    '  --force           replace --out and --png if they exist (without it, an existing file is refused)',
    '  --force-geometry  score a scan whose voxel size (0.1-20 mm) or extent (2 cm-2.5 m per side) is',
    '                    outside what a CT can be, or that is smaller than one window after preprocessing',
    ...RUNTIME_USAGE,
    '',
    'The scan is preprocessed as in training (body crop, resampling to the model spacing, HU window,',
    'CLAHE), scored window by window with Gaussian-weighted blending, and mapped back onto its grid.',
    'An output is never one of the inputs (links are followed), and is written under a temporary name',
    'that is renamed into place once complete, or removed if the run fails or is stopped.',
  ].join('\n'),
  async run(argv) {
    const args = parseArgs(argv, spec);
    const modelPath = stringOption(args, 'model');
    const input = stringOption(args, 'in');
    const out = stringOption(args, 'out');
    if (!modelPath) throw new UsageError('--model is required');
    if (!input) throw new UsageError('--in is required');
    if (!out) throw new UsageError('--out is required');
    requireSuffix('--out', out, /\.nii(\.gz)?$/i, '.nii or .nii.gz');
    const png = stringOption(args, 'png');
    if (png !== undefined) requireSuffix('--png', png, /\.png$/i, '.png');
    const overlap = overlapOption(args);
    const runtimeKind = runtimeOption(args);
    checkRunPaths({
      inputs: [{ option: '--model', path: modelPath }, { option: '--in', path: input }],
      outputs: [{ option: '--out', path: out }, ...(png !== undefined ? [{ option: '--png', path: png }] : [])],
      force: args.options.force === true,
    });

    // Read and check the scan and the model before starting the GPU: a bad file fails at once.
    const ct = readNifti(input);
    for (const warning of ct.warnings) console.error(`warning: ${warning}`);
    const geometry = ctGeometryProblem(ct);
    const forceGeometry = args.options['force-geometry'] === true;
    if (geometry && !forceGeometry) throw new DataError(input, `${geometry}; --force-geometry scores it anyway`);
    const weights = readScreenerFile(modelPath);
    const { targetSpacing, train } = weights.config;
    const scan = preprocessCt(ct, input, { targetSpacing: [...targetSpacing] });
    const fit = windowFitProblem(scan.image.shape, train.cropSize, targetSpacing);
    if (fit && !forceGeometry) throw new DataError(input, `${fit}; --force-geometry scores it anyway`);

    // The outputs exist under their temporary names from here on; they are renamed into place at the
    // end, or removed on any failure (and by the command line's signal handlers).
    const pending = [PendingFile.reserve(out), ...(png !== undefined ? [PendingFile.reserve(png)] : [])];
    try {
      console.error(`model: ${describeConfig(weights.config)}`);
      const bar = new ProgressBar(process.stderr, 'predict', 'windows');
      const onProgress = (done: number, total: number) => bar.update(done, total);
      // The windows are scored on the runtime asked for; everything before and after runs here.
      const windowed: WindowedMap = await withRuntime(runtimeKind, {
        node: async (runtime) => {
          const model = Screener.fromWeights(runtime, weights, modelPath);
          try {
            return await predictPreprocessed(runtime, model, scan.image, { overlap, onProgress });
          } finally {
            model.dispose();
          }
        },
        chromium: async (chromium, adapter) => {
          console.error(`adapter: ${adapter}`);
          return chromium.predict({ name: modelPath, bytes: readFileBytes(modelPath) }, scan.image, { overlap, onProgress });
        },
      });
      const mapping = performance.now();
      const { anomaly } = anomalyOnOriginalGrid(windowed.map, scan);
      const seconds = windowed.seconds + (performance.now() - mapping) / 1000;
      pending[0]!.commit(encodeAnomalyMap(anomaly, input, { gzip: !/\.nii$/i.test(out) }));
      pending[1]?.commit(renderOverlay(ct, anomaly.data, { body: scan.originalBody.data }).toPng());
      const [lo, hi] = valueRange(anomaly.data);
      const voxels = voxelCount(ct.shape);
      console.log(
        `${out}: ${formatShape(anomaly.shape)} map, scores ${lo.toFixed(3)} .. ${hi.toFixed(3)}; ` +
          `${seconds.toFixed(1)} s, ${windowed.windows} windows, ${Math.round(voxels / seconds).toLocaleString('en-US')} voxels/s` +
          (png ? `; overlay ${png}` : ''),
      );
      return 0;
    } finally {
      for (const file of pending) file.discard();
    }
  },
};
