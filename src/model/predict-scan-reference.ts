// Whole-scan inference for a knn density compared with its own scan (scan-reference.ts), in two passes:
//   1. every window's pooled descriptors, a batch at a time, read back and kept on the CPU;
//   2. the scan's reference drawn from them, then each batch's cells searched against it on the GPU
//      (nearestRows, rows farther than SCAN_REFERENCE_APART_MM only), scored, upsampled to the window
//      and blended as every other model's windows are (predict.ts).
// No Node imports: pages run it too.
import type { Runtime } from '../gpu/runtime';
import { fromArray, nearestRows, noGrad, resizeTrilinear, tidy, type Tensor } from '../graph/index';
import { voxelCount, type Shape3 } from '../data/geometry/volume';
import { cellScores, drawScanReference, SCAN_REFERENCE_APART_MM, windowCells, type ScanReferenceModel, type WindowCells } from './scan-reference';
import { WindowBlender } from './window-blend';
import { extractWindow, gaussianWindowWeights } from './window-placement';

export interface ScanImage {
  data: Float32Array;
  shape: Shape3;
  /** The body mask of the preprocessed grid and its voxel size in mm: where the reference may be drawn. */
  body: Uint8Array;
  spacing: readonly number[];
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

  // Pass 1: descriptors (the first half of the progress).
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
    progress.onProgress?.(Math.floor(descriptors.length / 2), origins.length);
  }
  const cells: WindowCells[] = origins.map((origin) => windowCells(origin, window, stride, image.shape, image.spacing, image.body));
  const reference = drawScanReference(descriptors, cells, d, model.rows);

  // Pass 2: search, score, upsample, blend.
  const weights = gaussianWindowWeights(window);
  const blender = new WindowBlender(image.shape);
  const rows = reference.count > 0 ? fromArray(runtime, reference.rows, [reference.count, d]) : null;
  const positions = reference.count > 0 ? fromArray(runtime, reference.positions, [reference.count, 3]) : null;
  try {
    for (const group of groups) {
      progress.signal?.throwIfAborted();
      const x = new Float32Array(group.length * cellCount * d);
      const at = new Float32Array(group.length * cellCount * 3);
      group.forEach((w, i) => {
        x.set(descriptors[w]!, i * cellCount * d);
        at.set(cells[w]!.centres, i * cellCount * 3);
      });
      const searched = tidy(() => {
        const queries = fromArray(runtime, x, [group.length * cellCount, d]);
        const nearest = rows ? nearestRows(queries, rows, { xPosition: fromArray(runtime, at, [group.length * cellCount, 3]), bankPosition: positions!, minDistance: SCAN_REFERENCE_APART_MM }) : null;
        const bank = model.reference === 'both' ? noGrad(() => model.bankDistance(queries)) : null;
        return { nearest, bank };
      });
      const nearest = searched.nearest ? await searched.nearest.readInt() : new Int32Array(group.length * cellCount).fill(-1);
      const bank = searched.bank ? await searched.bank.read() : null;
      searched.nearest?.dispose();
      searched.bank?.dispose();
      const scores = new Float32Array(group.length * cellCount);
      group.forEach((w, i) => {
        const span = [i * cellCount, (i + 1) * cellCount] as const;
        scores.set(cellScores(descriptors[w]!, nearest.subarray(...span), reference, cells[w]!.touchesBody, d, bank ? bank.subarray(...span) : null), span[0]);
      });
      const upsampled: Tensor = tidy(() => noGrad(() => resizeTrilinear(fromArray(runtime, scores, [group.length, ...grid, 1]), window)));
      const values = await upsampled.read();
      upsampled.dispose();
      group.forEach((w, i) => blender.add(origins[w]!, window, values.subarray(i * windowVoxels, (i + 1) * windowVoxels), weights));
      progress.onProgress?.(Math.floor((origins.length + group[group.length - 1]! + 1) / 2), origins.length);
    }
  } finally {
    rows?.dispose();
    positions?.dispose();
  }
  return blender.result();
}
