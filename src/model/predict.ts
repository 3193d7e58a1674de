// Whole-scan inference: the anomaly map of a CT on its own grid and affine.
//
//   preprocess (body crop, resampling, HU window, CLAHE)
//   -> sliding windows of the model's window shape (overlap 0.5), one at a time:
//        upload the window, score it (NLL per pooled voxel), upsample trilinearly to the window,
//        read it back and add it to a Gaussian-weighted blend on the CPU
//   -> voxels outside the body set to the map's minimum inside it
//   -> back onto the input's grid and affine (trilinear), the same minimum outside the body.
// GPU memory stays bounded by one window whatever the scan size: each window's tensors live in their
// own tidy scope and are freed before the next one. No Node imports: this runs in browsers too.
import type { Runtime } from '../gpu/runtime';
import { fromArray, noGrad, resizeTrilinear, tidy, type Tensor } from '../graph/index';
import { preprocessCt, toOriginalGrid, type PreprocessOptions, type PreprocessedScan } from '../data/preprocess';
import { voxelCount, type Shape3, type Volume, type VoxelArray } from '../data/volume';
import { WindowBlender } from './window-blend';
import { DEFAULT_OVERLAP, extractWindow, gaussianWindowWeights, placeWindows } from './window-placement';

/** What inference needs of a model (Screener has it; tests use small stand-ins). */
export interface WindowModel {
  readonly windowShape: [number, number, number];
  /**
   * NLL per pooled voxel, [1, d, h, w, 1], for a window [1, D, H, W, 1] of preprocessed intensities;
   * `positionInScan` says where the window lies (for position-conditioned models).
   */
  scoreWindow(image: Tensor, positionInScan?: { origin: [number, number, number]; scanShape: [number, number, number] }): Tensor;
}

export interface PredictOptions {
  overlap?: number;
  /** Called after each window with the number done and the total. */
  onProgress?: (done: number, total: number) => void;
}

export interface WindowedMap {
  /** Row-major [D, H, W] over the preprocessed grid. */
  map: Float32Array;
  windows: number;
  seconds: number;
}

/** The blended anomaly map of a preprocessed image (values in [0, 1], row-major [D, H, W]). */
export async function predictPreprocessed(
  runtime: Runtime,
  model: WindowModel,
  image: { data: Float32Array; shape: Shape3 },
  options: PredictOptions = {},
): Promise<WindowedMap> {
  const started = performance.now();
  const window = [...model.windowShape] as Shape3;
  if (image.data.length !== voxelCount(image.shape)) {
    throw new RangeError(`predict: ${image.data.length} voxels for a ${image.shape.join('x')} image`);
  }
  const origins = placeWindows(image.shape, window, options.overlap ?? DEFAULT_OVERLAP);
  const weights = gaussianWindowWeights(window);
  const blender = new WindowBlender(image.shape);
  // Two windows in flight at most: while the CPU blends window k - 1, the GPU computes window k.
  // read() submits everything queued so far plus the copy of k - 1, window k is then queued and
  // submitted, and only then do we wait for k - 1's values.
  let previous: { values: Tensor; origin: Shape3 } | null = null;
  try {
    for (let k = 0; k <= origins.length; k++) {
      const reading = previous?.values.read();
      reading?.catch(() => undefined); // awaited below; this only keeps a failure while window k throws from going unhandled
      let current: { values: Tensor; origin: Shape3 } | null = null;
      if (k < origins.length) {
        const origin = origins[k]!;
        const input = extractWindow(image.data, image.shape, origin, window);
        const values = tidy(() =>
          noGrad(() => {
            const x = fromArray(runtime, input, [1, ...window, 1]);
            const nll = model.scoreWindow(x, { origin: [...origin], scanShape: [...image.shape] });
            return resizeTrilinear(nll, window);
          }),
        );
        current = { values, origin };
        runtime.flush();
      }
      if (previous) {
        blender.add(previous.origin, window, await reading!, weights);
        previous.values.dispose();
        options.onProgress?.(k, origins.length);
      }
      previous = current;
    }
  } finally {
    previous?.values.dispose();
  }
  return { map: blender.result(), windows: origins.length, seconds: (performance.now() - started) / 1000 };
}

/**
 * Puts a map computed on the preprocessed grid back onto the scan's original grid and affine. Voxels
 * outside the body (on either grid) get the minimum of the map inside the body, so that nothing
 * outside the body ever outranks a voxel in it.
 */
export function anomalyOnOriginalGrid(map: Float32Array, scan: PreprocessedScan): { anomaly: Volume<Float32Array>; floor: number } {
  let floor = Infinity;
  for (let i = 0; i < map.length; i++) if (scan.body.data[i] && map[i]! < floor) floor = map[i]!;
  if (floor === Infinity) for (let i = 0; i < map.length; i++) floor = Math.min(floor, map[i]!); // no body voxel there
  const inside = Float32Array.from(map, (v, i) => (scan.body.data[i] ? v : floor));
  const anomaly = toOriginalGrid(inside, scan.geometry, { fill: floor });
  const body = scan.originalBody.data;
  for (let i = 0; i < anomaly.data.length; i++) if (!body[i]) anomaly.data[i] = floor;
  return { anomaly, floor };
}

export interface ScanPrediction extends WindowedMap {
  /** The anomaly map on the input's grid and affine. */
  anomaly: Volume<Float32Array>;
  scan: PreprocessedScan;
}

/** The anomaly map of a CT in HU, on its own grid and affine. */
export async function predictScan(
  runtime: Runtime,
  model: WindowModel,
  ct: Volume<VoxelArray>,
  source: string,
  options: PredictOptions & { preprocess?: Partial<PreprocessOptions> } = {},
): Promise<ScanPrediction> {
  const started = performance.now();
  const scan = preprocessCt(ct, source, options.preprocess);
  return predictPreprocessedScan(runtime, model, scan, options, started);
}

/** The same for a scan already preprocessed (by a caller that checks it before any GPU work). */
export async function predictPreprocessedScan(
  runtime: Runtime,
  model: WindowModel,
  scan: PreprocessedScan,
  options: PredictOptions = {},
  started = performance.now(),
): Promise<ScanPrediction> {
  const windowed = await predictPreprocessed(runtime, model, scan.image, options);
  const { anomaly } = anomalyOnOriginalGrid(windowed.map, scan);
  return { ...windowed, anomaly, scan, seconds: (performance.now() - started) / 1000 };
}
