// `screener predict`: the anomaly map of one CT, written as NIfTI on the input's grid and affine.
import { overlapOption, parseArgs, stringOption, UsageError } from '../args';
import type { Command } from '../command';
import { readNifti, writeFileAtomic } from '../../data/files.node';
import { formatShape, valueRange, voxelCount } from '../../data/volume';
import { nodeRuntime } from '../../gpu/node';
import { ProgressBar } from '../../eval/progress';
import { renderOverlay } from '../../eval/overlay';
import { encodeAnomalyMap } from '../../model/anomaly-file';
import { predictScan } from '../../model/predict';
import { describeScreener, loadScreener, modelPreprocessing } from '../../model/predict-load.node';

const spec = {
  model: { type: 'string' },
  in: { type: 'string' },
  out: { type: 'string' },
  png: { type: 'string' },
  overlap: { type: 'string' },
} as const;

export const predict: Command = {
  name: 'predict',
  summary: 'write the anomaly map of a CT (NIfTI on the input grid, optional PNG overlay)',
  usage: [
    'usage: screener predict --model MODEL.safetensors --in ct.nii.gz --out anomaly.nii.gz [--png overlay.png] [--overlap F]',
    '',
    '  --model M     weights made by `screener train`',
    '  --in FILE     a CT in HU (NIfTI .nii or .nii.gz)',
    '  --out FILE    the anomaly map (float32 NLL per voxel), same grid and affine as --in;',
    '                voxels outside the body get the lowest score inside it',
    '  --png FILE    also a three-view picture: CT, highest scores in red-yellow',
    '  --overlap F   overlap of the sliding windows (default 0.5)',
    '',
    'The scan is preprocessed as in training (body crop, resampling to the model spacing, HU window,',
    'CLAHE), scored window by window with Gaussian-weighted blending, and mapped back onto its grid.',
  ].join('\n'),
  async run(argv) {
    const args = parseArgs(argv, spec);
    const modelPath = stringOption(args, 'model');
    const input = stringOption(args, 'in');
    const out = stringOption(args, 'out');
    if (!modelPath) throw new UsageError('--model is required');
    if (!input) throw new UsageError('--in is required');
    if (!out) throw new UsageError('--out is required');
    if (!/\.nii(\.gz)?$/i.test(out)) throw new UsageError(`--out must end in .nii or .nii.gz, got "${out}"`);
    const png = stringOption(args, 'png');
    const overlap = overlapOption(args);

    // Read the input before starting the GPU: a bad file fails at once.
    const ct = readNifti(input);
    const runtime = await nodeRuntime();
    try {
      const model = loadScreener(runtime, modelPath);
      try {
        console.error(`model: ${describeScreener(model)}`);
        const bar = new ProgressBar(process.stderr, 'predict', 'windows');
        const result = await predictScan(runtime, model, ct, input, {
          overlap,
          preprocess: modelPreprocessing(model),
          onProgress: (done, total) => bar.update(done, total),
        });
        const { anomaly } = result;
        writeFileAtomic(out, encodeAnomalyMap(anomaly, input, { gzip: !/\.nii$/i.test(out) }));
        if (png) writeFileAtomic(png, renderOverlay(ct, anomaly.data, { body: result.scan.originalBody.data }).toPng());
        const [lo, hi] = valueRange(anomaly.data);
        const voxels = voxelCount(ct.shape);
        console.log(
          `${out}: ${formatShape(anomaly.shape)} map, scores ${lo.toFixed(3)} .. ${hi.toFixed(3)}; ` +
            `${result.seconds.toFixed(1)} s, ${result.windows} windows, ${Math.round(voxels / result.seconds).toLocaleString('en-US')} voxels/s` +
            (png ? `; overlay ${png}` : ''),
        );
        return 0;
      } finally {
        model.dispose();
      }
    } finally {
      runtime.dispose();
    }
  },
};
