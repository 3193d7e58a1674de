// Whole-scan inference for a knn density compared with its own scan (scan-reference.ts), in two passes:
//   1. every window's pooled descriptors, a batch at a time, read back and kept on the CPU;
//   2. the scan's cell field blended from them and its reference taken, the cells touching the body
//      searched against it on the GPU a chunk at a time (nearestRows, rows farther than
//      SCAN_REFERENCE_APART_MM only) and scored; then each window's cells given their field cell's
//      score, upsampled to the window and blended as every other model's windows are (predict.ts).
// No Node imports: pages run it too.
import type { Runtime } from '../gpu/runtime';
import { fromArray, nearestRows, noGrad, resizeTrilinear, tidy, type Tensor } from '../graph/index';
import { voxelCount, type Shape3 } from '../data/geometry/volume';
import { blendCellField, cellScores, drawScanReference, keepReferenceInside, SCAN_REFERENCE_APART_MM, type CellField, type ScanReference, type ScanReferenceModel } from './scan-reference';
import type { FacePadding } from './cut-face-padding';
import { WindowBlender } from './window-blend';
import { extractWindow, gaussianWindowWeights } from './window-placement';

/** Field cells searched in one dispatch: a few windows' worth, so that no dispatch runs for long. */
const SEARCH_CHUNK = 8192;

/**
 * Where each stage ends on the progress bar, whose total stays the number of windows: the descriptors,
 * then the search of the field, then the blending. The shares are the stages' times in predicting the
 * largest quality phantom (75 windows, SwiftShader on two cores, alone, median of 3: 38.2 s, 7.7 s and
 * 0.2 s; the same shares with another job on the cores). The search's share grows with the body
 * (its cost goes with the square of the cells), so it reports each chunk rather than leaving the bar still.
 */
const PROGRESS_ENDS = { descriptors: 0.82, search: 0.99 } as const;

export interface ScanImage {
  data: Float32Array;
  shape: Shape3;
  /** The body mask of the preprocessed grid and its voxel size in mm: where the reference may be drawn. */
  body: Uint8Array;
  spacing: readonly number[];
  /** The scan mirrored past its cut faces by this much: cells of the mirrored part are never reference rows (they would find their own mirror image). */
  padding?: FacePadding;
}

/** The blended map of `image` (row-major [D, H, W]) for windows at `origins`, batches of `batch` windows. */
export async function blendAgainstScan(
  runtime: Runtime,
  model: ScanReferenceModel,
  window: Shape3,
  image: ScanImage,
  origins: Shape3[],
  batch: number,
  progress: { signal?: AbortSignal; onProgress?: (done: number, total: number) => void },
): Promise<Float32Array> {
  const stride = model.poolStride;
  const grid = [0, 1, 2].map((a) => window[a]! / stride[a]!) as Shape3;
  const cellCount = voxelCount(grid);
  const windowVoxels = voxelCount(window);
  const groups: number[][] = [];
  for (let k = 0; k < origins.length; k += batch) groups.push(origins.slice(k, k + batch).map((_, i) => k + i));

  // `fraction` of the stage from `start` to `end` done (the last step lands on `end` exactly).
  const report = (start: number, end: number, fraction: number) =>
    progress.onProgress?.(Math.floor((fraction >= 1 ? end : start + fraction * (end - start)) * origins.length), origins.length);

  // Pass 1: descriptors.
  const descriptors: Float32Array[] = [];
  let d = 0;
  for (const group of groups) {
    progress.signal?.throwIfAborted();
    const input = new Float32Array(group.length * windowVoxels);
    group.forEach((w, i) => input.set(extractWindow(image.data, image.shape, origins[w]!, window), i * windowVoxels));
    const pooled = tidy(() => noGrad(() => model.pooledDescriptors(fromArray(runtime, input, [group.length, ...window, 1]))));
    d = pooled.shape[pooled.rank - 1]!;
    const values = await pooled.read();
    pooled.dispose();
    group.forEach((_, i) => descriptors.push(values.slice(i * cellCount * d, (i + 1) * cellCount * d)));
    report(0, PROGRESS_ENDS.descriptors, descriptors.length / origins.length);
  }
  const weights = gaussianWindowWeights(window);
  const field = blendCellField(descriptors, origins, window, stride, weights, image.shape, image.spacing, image.body, d);
  if (image.padding) keepReferenceInside(field, stride, image.shape, image.padding);
  const reference = drawScanReference(field, d, model.rows);
  const fieldScores = await scoreField(runtime, model, field, reference, d, progress.signal, (searched) =>
    report(PROGRESS_ENDS.descriptors, PROGRESS_ENDS.search, searched));

  // Pass 2: each window's cells take their field cell's score; upsample, blend.
  const blender = new WindowBlender(image.shape);
  for (const group of groups) {
    progress.signal?.throwIfAborted();
    const scores = new Float32Array(group.length * cellCount);
    group.forEach((w, i) => field.windowCells[w]!.forEach((f, cell) => {
      if (f >= 0) scores[i * cellCount + cell] = fieldScores[f]!;
    }));
    const upsampled: Tensor = tidy(() => noGrad(() => resizeTrilinear(fromArray(runtime, scores, [group.length, ...grid, 1]), window)));
    const values = await upsampled.read();
    upsampled.dispose();
    group.forEach((w, i) => blender.add(origins[w]!, window, values.subarray(i * windowVoxels, (i + 1) * windowVoxels), weights));
    report(PROGRESS_ENDS.search, 1, (group[group.length - 1]! + 1) / origins.length);
  }
  return blender.result();
}

/**
 * Each field cell's score (cellScores): the cells touching the body searched against the reference,
 * SEARCH_CHUNK at a time; `onSearched` hears the fraction of them searched after each chunk.
 */
async function scoreField(
  runtime: Runtime,
  model: ScanReferenceModel,
  field: CellField,
  reference: ScanReference,
  d: number,
  signal: AbortSignal | undefined,
  onSearched: (fraction: number) => void,
): Promise<Float32Array> {
  const queries: number[] = [];
  field.touchesBody.forEach((touches, f) => touches && queries.push(f));
  const nearest = new Int32Array(field.touchesBody.length).fill(-1);
  const bank = model.reference === 'both' ? new Float32Array(field.touchesBody.length) : null;
  const rows = reference.count > 0 ? fromArray(runtime, reference.rows, [reference.count, d]) : null;
  const positions = reference.count > 0 ? fromArray(runtime, reference.positions, [reference.count, 3]) : null;
  try {
    for (let q = 0; q < queries.length; q += SEARCH_CHUNK) {
      signal?.throwIfAborted();
      const chunk = queries.slice(q, q + SEARCH_CHUNK);
      const x = new Float32Array(chunk.length * d);
      const at = new Float32Array(chunk.length * 3);
      chunk.forEach((f, i) => {
        x.set(field.descriptors.subarray(f * d, (f + 1) * d), i * d);
        at.set(field.centres.subarray(f * 3, f * 3 + 3), i * 3);
      });
      const searched = tidy(() => {
        const cells = fromArray(runtime, x, [chunk.length, d]);
        return {
          nearest: rows ? nearestRows(cells, rows, { xPosition: fromArray(runtime, at, [chunk.length, 3]), bankPosition: positions!, minDistance: SCAN_REFERENCE_APART_MM }) : null,
          bank: bank ? noGrad(() => model.bankDistance(cells)) : null,
        };
      });
      const found = searched.nearest ? await searched.nearest.readInt() : null;
      const distances = searched.bank ? await searched.bank.read() : null;
      searched.nearest?.dispose();
      searched.bank?.dispose();
      chunk.forEach((f, i) => {
        if (found) nearest[f] = found[i]!;
        if (bank) bank[f] = distances![i]!;
      });
      onSearched((q + chunk.length) / queries.length);
    }
  } finally {
    rows?.dispose();
    positions?.dispose();
  }
  return cellScores(field.descriptors, nearest, reference, field.touchesBody, d, bank);
}
