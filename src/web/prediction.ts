// One run of Screener on the open scan: the CLI's predictScan (preprocessing, sliding windows in
// batches, Gaussian blending, back onto the scan's grid) and the CLI's file encoder for the map.
import { anomalyFileOptionsOf, anomalyScoreName, encodeAnomalyMap, predictScan, valueRange, type Runtime, type Screener, type Volume } from '../screener';
import type { OpenScan } from './scans';

export interface PredictionResult {
  anomaly: Volume<Float32Array>;
  /** The map as `screener predict` writes it (.nii.gz). */
  file: Uint8Array;
  /** The lowest score inside the body (what every voxel outside it gets) and the highest. */
  range: [number, number];
  /** The threshold the overlay opens with: the top 2 % of the voxels above the floor are coloured. */
  threshold: number;
  /** What the scores are ("NLL", "latent energy", "knn distance", "knn distance within the scan", ...). */
  scoreName: string;
  windows: number;
  seconds: number;
}

export async function runPrediction(
  runtime: Runtime,
  model: Screener,
  scan: OpenScan,
  options: { overlap: number; signal: AbortSignal; onProgress: (done: number, total: number) => void },
): Promise<PredictionResult> {
  const result = await predictScan(runtime, model, scan.ct, scan.name, {
    overlap: options.overlap,
    onProgress: options.onProgress,
    signal: options.signal,
  });
  const fileOptions = anomalyFileOptionsOf(model.config);
  const file = encodeAnomalyMap(result.anomaly, scan.name, fileOptions);
  const range = valueRange(result.anomaly.data);
  return { anomaly: result.anomaly, file, range, scoreName: anomalyScoreName(fileOptions.score, fileOptions.density, fileOptions.reference), threshold: upperQuantile(result.anomaly.data, range[0], 0.98), windows: result.windows, seconds: result.seconds };
}

/** The q-quantile of the values above `floor` (the body), from a sample of at most 200k of them. */
function upperQuantile(data: Float32Array, floor: number, q: number): number {
  const stride = Math.max(1, Math.floor(data.length / 200_000));
  const sample: number[] = [];
  for (let i = 0; i < data.length; i += stride) if (data[i]! > floor) sample.push(data[i]!);
  if (!sample.length) return floor;
  sample.sort((a, b) => a - b);
  return sample[Math.min(sample.length - 1, Math.floor(q * sample.length))]!;
}
