// Whole-scan inference: the anomaly map of a CT on its own grid and affine.
//
//   preprocess (body crop, resampling, HU window, CLAHE)
//   -> sliding windows of the model's window shape (overlap 0.5), a batch at a time:
//        upload the batch, score it (NLL per pooled voxel), upsample trilinearly to the window,
//        read it back and add each window to a Gaussian-weighted blend on the CPU
//   -> voxels outside the body set to the map's minimum inside it; the map smoothed when the model
//      asks for it (smoothAnomalyMap)
//   -> back onto the input's grid and affine (trilinear), the same minimum outside the body.
// GPU memory stays bounded by two batches whatever the scan size: each batch's tensors live in their
// own tidy scope and are freed before the next one. Batches share the fixed cost of each dispatch
// among their windows (on a quiet 2-core software adapter, a 128^3 scan with the tiny model took 28 s
// in batches of 16 against 34 s one window at a time). No Node imports: this runs in browsers too.
import type { Runtime } from '../gpu/runtime';
import type { PositionInScan } from './screener';
import { fromArray, noGrad, resizeTrilinear, tidy, type Tensor } from '../graph/index';
import { affineSpacing, type Shape3, type Volume, type VoxelArray, voxelCount } from '../data/geometry/volume';
import { preprocessCt, type PreprocessOptions, type PreprocessedScan } from '../data/preprocess/preprocess';
import { AnomalyOnOriginalGrid } from './anomaly-on-grid';
import { smoothAnomalyMap } from './map-smoothing';
import { WindowBlender } from './window-blend';
import { blendAgainstScan } from './predict-scan-reference';
import { cropPadding, cutFacePadding, cutFacesOf, hasPadding, padFaces, paddedShape, type CutFaces, type FacePadding } from './cut-face-padding';
import type { ScanReferenceModel } from './scan-reference';
import { DEFAULT_OVERLAP, extractWindow, gaussianWindowWeights, placeWindows } from './window-placement';

/** What inference needs of a model (Screener has it; tests use small stand-ins). */
export interface WindowModel {
  readonly windowShape: [number, number, number];
  /** The preprocessing the model expects of a scan (its voxel size above all). */
  readonly preprocess: PreprocessOptions;
  /**
   * NLL per pooled voxel, [N, d, h, w, 1], for N windows [N, D, H, W, 1] of preprocessed intensities;
   * `positionInScan` says where each window lies (for position-conditioned models).
   */
  scoreWindow(image: Tensor, positionInScan?: PositionInScan[]): Tensor;
  /** Standard deviation in mm of the Gaussian that smooths the blended map (smoothAnomalyMap); absent or 0: none. */
  readonly mapSmoothingMm?: number;
  /** The density's pooling stride (Screener has it): padding past cut faces is a multiple of it. */
  readonly poolStride?: readonly [number, number, number];
  /** Set when the model compares each voxel with its own scan (a knn density's 'scan' or 'both' reference). */
  readonly scanReference?: ScanReferenceModel | null;
}

/** Voxels of the windows scored in one batch, when the caller does not say how many windows. */
export const WINDOW_BATCH_VOXELS = 1 << 16;
export const MAX_WINDOW_BATCH = 16;

/** Windows per batch for a window shape: about WINDOW_BATCH_VOXELS voxels, at least 1, at most MAX_WINDOW_BATCH. */
export function defaultWindowBatch(window: Shape3): number {
  return Math.max(1, Math.min(MAX_WINDOW_BATCH, Math.floor(WINDOW_BATCH_VOXELS / voxelCount(window))));
}

export interface PredictOptions {
  overlap?: number;
  /** Windows scored per batch (default defaultWindowBatch of the model's window). */
  batch?: number;
  /** Called after each window with the number done and the total. */
  onProgress?: (done: number, total: number) => void;
  /** Checked before each batch: once aborted, prediction stops with the signal's reason (a page's cancel button). */
  signal?: AbortSignal;
}

export interface WindowedMap {
  /** Row-major [D, H, W] over the preprocessed grid. */
  map: Float32Array;
  windows: number;
  seconds: number;
}

/** A preprocessed image to predict. */
export interface PredictImage {
  data: Float32Array;
  shape: Shape3;
  body?: Uint8Array;
  spacing?: readonly number[];
  /**
   * The faces where the field of view cut the body (cutFacesOf the scan's geometry): the image is
   * mirrored past them before its windows are placed, and the map cropped back (cut-face-padding.ts).
   */
  cutFaces?: CutFaces;
}

/**
 * The blended anomaly map of a preprocessed image (values in [0, 1], row-major [D, H, W]). A model
 * compared with its own scan (model.scanReference) also needs the image's body mask and voxel size.
 * With `image.cutFaces`, the image is mirrored past those faces first and the map cropped back.
 */
export async function predictPreprocessed(
  runtime: Runtime,
  model: WindowModel,
  image: PredictImage,
  options: PredictOptions = {},
): Promise<WindowedMap> {
  const started = performance.now();
  if (image.data.length !== voxelCount(image.shape)) {
    throw new RangeError(`predict: ${image.data.length} voxels for a ${image.shape.join('x')} image`);
  }
  const scanReference = model.scanReference;
  if (scanReference && (!image.body || !image.spacing || image.body.length !== image.data.length)) {
    throw new Error(`predict: this model compares each voxel with the rest of its scan (knn reference '${scanReference.reference}'), so it needs the preprocessed scan's body mask and voxel size`);
  }
  const batch = options.batch ?? defaultWindowBatch([...model.windowShape] as Shape3);
  if (!(Number.isInteger(batch) && batch >= 1)) throw new RangeError(`predict: batch must be a positive integer, got ${batch}`);
  const padding = predictionPadding(image, model.windowShape, poolStrideOf(model));
  const scan: Omit<PredictImage, 'cutFaces'> = padding
    ? {
        data: padFaces(image.data, image.shape, padding),
        shape: paddedShape(image.shape, padding),
        ...(image.body ? { body: padFaces(image.body, image.shape, padding) } : {}),
        ...(image.spacing ? { spacing: image.spacing } : {}),
      }
    : image;
  const { map, windows } = await predictWindows(runtime, model, scan, padding, { ...options, batch });
  return { map: padding ? cropPadding(map, image.shape, padding) : map, windows, seconds: (performance.now() - started) / 1000 };
}

/** How far predictPreprocessed mirrors an image past its cut faces; null when it is not padded. */
export function predictionPadding(image: Pick<PredictImage, 'shape' | 'cutFaces'>, window: readonly number[], poolStride: readonly number[]): FacePadding | null {
  if (!image.cutFaces) return null;
  const padding = cutFacePadding(image.cutFaces, image.shape, [...window] as Shape3, [...poolStride] as Shape3);
  return hasPadding(padding) ? padding : null;
}

/** How many windows predictPreprocessed scores for an image (its padding included). */
export function predictionWindowCount(image: Pick<PredictImage, 'shape' | 'cutFaces'>, window: readonly number[], poolStride: readonly number[], overlap = DEFAULT_OVERLAP): number {
  const padding = predictionPadding(image, window, poolStride);
  return placeWindows(padding ? paddedShape(image.shape, padding) : image.shape, [...window] as Shape3, overlap).length;
}

/** The pooling stride padding keeps to: the model's, else its scan reference's, else none. */
function poolStrideOf(model: WindowModel): readonly number[] {
  return model.poolStride ?? model.scanReference?.poolStride ?? [1, 1, 1];
}

/**
 * The blended map of an image (padded or not: `padding` says by how much, for positions in the scan and
 * for the scan reference), its windows placed over the whole image, `batch` windows at a time.
 */
async function predictWindows(
  runtime: Runtime,
  model: WindowModel,
  image: Omit<PredictImage, 'cutFaces'>,
  padding: FacePadding | null,
  options: PredictOptions & { batch: number },
): Promise<{ map: Float32Array; windows: number }> {
  const window = [...model.windowShape] as Shape3;
  const origins = placeWindows(image.shape, window, options.overlap ?? DEFAULT_OVERLAP);
  const { batch } = options;
  const scanReference = model.scanReference;
  if (scanReference) {
    // predictPreprocessed checked that the body mask and voxel size are there.
    const scan = { data: image.data, shape: image.shape, body: image.body!, spacing: image.spacing!, ...(padding ? { padding } : {}) };
    return { map: await blendAgainstScan(runtime, scanReference, window, scan, origins, batch, options), windows: origins.length };
  }
  const weights = gaussianWindowWeights(window);
  const blender = new WindowBlender(image.shape);
  const windowVoxels = voxelCount(window);
  const batches: Shape3[][] = [];
  for (let k = 0; k < origins.length; k += batch) batches.push(origins.slice(k, k + batch));
  // Two batches in flight at most: while the CPU blends batch k - 1, the GPU computes batch k.
  // read() submits everything queued so far plus the copy of k - 1, batch k is then queued and
  // submitted, and only then do we wait for k - 1's values.
  let previous: { values: Tensor; origins: Shape3[] } | null = null;
  let done = 0;
  try {
    for (let k = 0; k <= batches.length; k++) {
      options.signal?.throwIfAborted();
      const reading = previous?.values.read();
      reading?.catch(() => undefined); // awaited below; this only keeps a failure while batch k throws from going unhandled
      let current: { values: Tensor; origins: Shape3[] } | null = null;
      if (k < batches.length) {
        const group = batches[k]!;
        const input = new Float32Array(group.length * windowVoxels);
        group.forEach((origin, i) => input.set(extractWindow(image.data, image.shape, origin, window), i * windowVoxels));
        const positions = group.map((origin) => positionInScan(origin, image.shape, padding));
        const values = tidy(() =>
          noGrad(() => {
            const x = fromArray(runtime, input, [group.length, ...window, 1]);
            return resizeTrilinear(model.scoreWindow(x, positions), window);
          }),
        );
        current = { values, origins: group };
        runtime.flush();
      }
      if (previous) {
        const values = await reading!;
        previous.origins.forEach((origin, i) => blender.add(origin, window, values.subarray(i * windowVoxels, (i + 1) * windowVoxels), weights));
        previous.values.dispose();
        done += previous.origins.length;
        options.onProgress?.(done, origins.length);
      }
      previous = current;
    }
  } finally {
    previous?.values.dispose();
  }
  return { map: blender.result(), windows: origins.length };
}

/** Where a window at `origin` of an image of `shape` lies in the scan itself (the image less its padding). */
function positionInScan(origin: Shape3, shape: Shape3, p: FacePadding | null): PositionInScan {
  if (!p) return { origin: [...origin] as Shape3, scanShape: [...shape] as Shape3 };
  return {
    origin: [0, 1, 2].map((a) => origin[a]! - p.before[a]!) as Shape3,
    scanShape: [0, 1, 2].map((a) => shape[a]! - p.before[a]! - p.after[a]!) as Shape3,
  };
}

/**
 * Puts a map computed on the preprocessed grid back onto the scan's original grid and affine, whole
 * (see AnomalyOnOriginalGrid, which gives it a slab at a time, for the rule outside the body).
 */
export function anomalyOnOriginalGrid(map: Float32Array, scan: PreprocessedScan): { anomaly: Volume<Float32Array>; floor: number } {
  const onGrid = new AnomalyOnOriginalGrid(map, scan);
  const affine = scan.geometry.originalAffine;
  const shape = [...scan.geometry.originalShape] as Shape3;
  return { anomaly: { data: onGrid.slab(0, shape[0]), shape, spacing: affineSpacing(affine), affine }, floor: onGrid.floor };
}

export interface ScanPrediction extends WindowedMap {
  /** The anomaly map on the input's grid and affine. */
  anomaly: Volume<Float32Array>;
  scan: PreprocessedScan;
}

/** The anomaly map of a CT in HU, on its own grid and affine, preprocessed as the model expects. */
export async function predictScan(
  runtime: Runtime,
  model: WindowModel,
  ct: Volume<VoxelArray>,
  source: string,
  options: PredictOptions = {},
): Promise<ScanPrediction> {
  const started = performance.now();
  const scan = preprocessCt(ct, source, model.preprocess);
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
  const windowed = await predictModelMap(runtime, model, scan, options);
  const { anomaly } = anomalyOnOriginalGrid(windowed.map, scan);
  return { ...windowed, anomaly, scan, seconds: (performance.now() - started) / 1000 };
}

/**
 * The model's map on the scan's preprocessed grid, smoothed as the model says (its mapSmoothingMm). The
 * scan is mirrored past the faces where the field of view cut the body (cut-face-padding.ts), so that
 * voxels there are seen from window centres as every other voxel is.
 */
export async function predictModelMap(
  runtime: Runtime,
  model: WindowModel,
  scan: PreprocessedScan,
  options: PredictOptions = {},
): Promise<WindowedMap> {
  const windowed = await predictPreprocessed(runtime, model, predictImageOf(scan), options);
  return { ...windowed, map: smoothAnomalyMap(windowed.map, scan, model.mapSmoothingMm ?? 0) };
}

/** What prediction needs of a preprocessed scan: its image, body mask, voxel size and cut faces. */
export function predictImageOf(scan: PreprocessedScan): Required<PredictImage> {
  return { data: scan.image.data, shape: scan.image.shape, body: scan.body.data, spacing: scan.image.spacing, cutFaces: cutFacesOf(scan.geometry) };
}
