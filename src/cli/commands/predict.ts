// `screener predict`: the anomaly map of one CT, written as NIfTI on the input's grid and affine.
// Everything that can be checked is checked before the GPU starts: the file names (outputs never
// replace inputs or earlier results; the output folder is writable), the scan (readable, a CT's
// geometry, at least one window after preprocessing) and the model (config and every tensor).
// Memory on a large scan stays within three times its voxel data: the file is read and inflated in
// pieces into one array (a header that declares too much is refused first), preprocessing adds one
// byte a voxel (the body mask), the scan is let go once preprocessed (unless --png draws it), and the
// map is written a slab of slices at a time through a streaming gzip. Every phase shows progress.
import { ANOMALY_OPTIONS, anomalyOptions, intOption, OVERLAP_OPTION, overlapOption, stringOption, UsageError } from '../args';
import { defineCommand } from '../command';
import { checkRunPaths, requireSuffix } from '../output-paths';
import { RUNTIME_OPTION, runtimeOption, withRuntime } from '../runtime-option';
import { PendingFile } from '../../data/io/atomic-write.node';
import { readFileBytes, readNifti } from '../../data/io/files.node';
import { DEFAULT_MAX_VOXEL_BYTES, type NiftiVolume } from '../../data/io/nifti';
import { DataError } from '../../data/errors';
import { plausibleCtProblem, windowFitProblem } from '../../data/geometry/plausible-geometry';
import { preprocessCt } from '../../data/preprocess/preprocess';
import { formatShape, voxelCount } from '../../data/geometry/volume';
import { ProgressBar, StepProgress, type ProgressOptions } from '../../eval/progress';
import { renderOverlay } from '../../data/render/overlay';
import { AnomalyFileWriter, anomalyFileOptionsOf } from '../../model/anomaly-file';
import { AnomalyOnOriginalGrid } from '../../model/anomaly-on-grid';
import { predictImageOf, predictionWindowCount, predictPreprocessed, type WindowedMap } from '../../model/predict';
import { readScreenerFile } from '../../model/predict-load.node';
import { describeConfig } from '../../model/describe';
import { configPreprocessing, mapSmoothingOf } from '../../model/config';
import { smoothAnomalyMap } from '../../model/map-smoothing';
import { withAnomalyOptions } from '../../model/weights';
import { Screener } from '../../model/screener';

const spec = {
  model: { type: 'string', value: 'M', description: 'weights made by `screener train`' },
  in: { type: 'string', value: 'FILE', description: 'a CT in HU (NIfTI .nii or .nii.gz)' },
  out: {
    type: 'string',
    value: 'FILE',
    description:
      'the anomaly map (.nii or .nii.gz; float32 score per voxel, the NLL unless --score says otherwise), same grid and affine as --in; voxels outside the body ' +
      'get the lowest score inside it',
  },
  png: { type: 'string', value: 'FILE', description: 'also a three-view picture (.png): CT, highest scores in red-yellow' },
  ...OVERLAP_OPTION,
  ...ANOMALY_OPTIONS,
  force: { type: 'boolean', description: 'replace --out and --png if they exist (without it, an existing file is refused)' },
  'force-geometry': {
    type: 'boolean',
    description:
      'score a scan whose voxel size (0.1-20 mm) or extent (2 cm-2.5 m per side) is outside what a CT can be, that holds ' +
      'no air (no voxel at or below -500 HU), or that is smaller than one window after preprocessing',
  },
  'max-scan-mb': {
    type: 'string',
    value: 'N',
    description:
      'refuse a scan whose header declares more than N MiB of voxel data, before reading it; a .nii.gz that inflates ' +
      'to more than its header says is refused too',
    default: DEFAULT_MAX_VOXEL_BYTES / 2 ** 20,
  },
  ...RUNTIME_OPTION,
} as const;

/** Into a log, a line at least this often in every phase. */
const PROGRESS: ProgressOptions = { everySeconds: 2 };
/** Voxels of the map made and written at a time. */
const SLAB_VOXELS = 1 << 20;

export const predict = defineCommand({
  name: 'predict',
  summary: 'write the anomaly map of a CT (NIfTI on the input grid, optional PNG overlay)',
  synopsis: [
    'screener predict --model MODEL.safetensors --in ct.nii.gz --out anomaly.nii.gz [--png overlay.png] [--overlap F] [--score nll|latent] [--reference bank|scan|both] [--reference-rows N] ' +
      '[--force] [--force-geometry] [--max-scan-mb N] [--runtime node|chromium]',
  ],
  options: spec,
  notes: [
    'The scan is preprocessed as in training (body crop, resampling to the model spacing, HU window, CLAHE), scored ' +
      'window by window with Gaussian-weighted blending, and mapped back onto its grid.',
    'An output is never one of the inputs (links are followed), and is written under a temporary name that is renamed ' +
      'into place once complete, or removed if the run fails or is stopped.',
    'Progress (reading, preprocessing, windows, writing) goes to stderr, into a log a line about every 2 s; the time ' +
      'left for the windows is estimated from the windows done. Memory stays within three times the scan\'s voxel data ' +
      'plus a constant; --png keeps the scan and the whole map (4 bytes a voxel) too.',
  ],
  async execute(args) {
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
    const anomaly = anomalyOptions(args);
    const runtimeKind = runtimeOption(args);
    checkRunPaths({
      inputs: [{ option: '--model', path: modelPath }, { option: '--in', path: input }],
      outputs: [{ option: '--out', path: out }, ...(png !== undefined ? [{ option: '--png', path: png }] : [])],
      force: args.options.force === true,
    });

    const maxScanMb = intOption(args, 'max-scan-mb', spec['max-scan-mb'].default);
    if (!(maxScanMb >= 1)) throw new UsageError('--max-scan-mb must be at least 1');

    // Read and check the scan and the model before starting the GPU: a bad file fails at once.
    const reading = new ProgressBar(process.stderr, 'reading', 'MiB', { ...PROGRESS, divisor: 2 ** 20, digits: 1 });
    let ct: NiftiVolume | undefined = readNifti(input, {
      maxVoxelBytes: maxScanMb * 2 ** 20,
      limitHint: '--max-scan-mb raises it',
      onProgress: (done, total) => reading.update(done, total),
    });
    for (const warning of ct.warnings) console.error(`warning: ${warning}`);
    const implausible = plausibleCtProblem(ct);
    const forceGeometry = args.options['force-geometry'] === true;
    if (implausible && !forceGeometry) throw new DataError(input, `${implausible}; --force-geometry scores it anyway`);
    const weights = withAnomalyOptions(readScreenerFile(modelPath), anomaly, modelPath);
    const { targetSpacing, train } = weights.config;
    const steps = new StepProgress(process.stderr, 'preprocessing', PROGRESS);
    const scan = preprocessCt(ct, input, configPreprocessing(weights.config), (step, done, total) => steps.update(step, done, total));
    steps.finish();
    const fit = windowFitProblem(scan.image.shape, train.cropSize, targetSpacing);
    if (fit && !forceGeometry) throw new DataError(input, `${fit}; --force-geometry scores it anyway`);
    const voxels = voxelCount(ct.shape);
    // The scan itself is needed again only to draw the overlay; without one, its memory goes now.
    if (png === undefined) ct = undefined;

    // The outputs exist under their temporary names from here on; they are renamed into place at the
    // end, or removed on any failure (and by the command line's signal handlers).
    const pending = [PendingFile.reserve(out), ...(png !== undefined ? [PendingFile.reserve(png)] : [])];
    try {
      console.error(`model: ${describeConfig(weights.config)}`);
      const bar = new ProgressBar(process.stderr, 'windows', 'windows', PROGRESS);
      const onProgress = (done: number, total: number) => bar.update(done, total);
      // The body mask goes with the image (a knn model compared with its own scan draws its reference
      // there), and the faces where the field of view cut the body (mirrored before the windows are placed).
      const image = predictImageOf(scan);
      bar.update(0, predictionWindowCount(image, train.cropSize, weights.config.density.poolStride, overlap));
      // While the GPU works the event loop is free: keep the log line coming between window batches
      // (refresh writes only when a line is due, so checking often costs nothing).
      const heartbeat = setInterval(() => bar.refresh(), 500);
      heartbeat.unref();
      // The windows are scored on the runtime asked for; everything before and after runs here.
      let windowed: WindowedMap;
      try {
        windowed = await withRuntime(runtimeKind, {
          node: async (runtime) => {
            const model = Screener.fromWeights(runtime, weights, modelPath);
            try {
              return await predictPreprocessed(runtime, model, image, { overlap, onProgress });
            } finally {
              model.dispose();
            }
          },
          chromium: async (chromium, adapter) => {
            console.error(`adapter: ${adapter}`);
            return chromium.predict({ name: modelPath, bytes: readFileBytes(modelPath) }, image, { overlap, score: anomaly.score, reference: anomaly.reference, referenceRows: anomaly.referenceRows, onProgress });
          },
        });
      } finally {
        clearInterval(heartbeat);
      }

      // The map on the input's grid, made and written a slab of slices at a time.
      const mapping = performance.now();
      const onGrid = new AnomalyOnOriginalGrid(smoothAnomalyMap(windowed.map, scan, mapSmoothingOf(weights.config)), scan);
      const { originalShape: shape, originalAffine: affine } = scan.geometry;
      const file = pending[0]!;
      const writer = new AnomalyFileWriter(shape, affine, input, (bytes) => file.append(bytes), {
        gzip: !/\.nii$/i.test(out),
        ...anomalyFileOptionsOf(weights.config),
      });
      const whole = png !== undefined ? new Float32Array(voxels) : null;
      const slices = Math.max(1, Math.floor(SLAB_VOXELS / (shape[1] * shape[2])));
      const writing = new ProgressBar(process.stderr, 'writing', 'slices', PROGRESS);
      for (let from = 0; from < shape[0]; from += slices) {
        const to = Math.min(shape[0], from + slices);
        const slab = onGrid.slab(from, to);
        writer.push(slab);
        whole?.set(slab, from * shape[1] * shape[2]);
        writing.update(to, shape[0]);
      }
      writer.finish();
      const seconds = windowed.seconds + (performance.now() - mapping) / 1000;
      file.commit();
      if (whole) pending[1]!.commit(renderOverlay(ct!, whole, { body: scan.originalBody.data }).toPng());
      console.log(
        `${out}: ${formatShape(shape)} map, scores ${writer.min.toFixed(3)} .. ${writer.max.toFixed(3)}; ` +
          `${seconds.toFixed(1)} s, ${windowed.windows} windows, ${Math.round(voxels / seconds).toLocaleString('en-US')} voxels/s` +
          (png ? `; overlay ${png}` : ''),
      );
      return 0;
    } finally {
      for (const file of pending) file.discard();
    }
  },
});
