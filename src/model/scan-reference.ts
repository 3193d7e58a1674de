// The scan as its own reference, for a knn density whose reference is 'scan' or 'both' (config.ts,
// KnnReference). A bank drawn from training scans holds other bodies: their contrast, texture and
// anatomy, so healthy tissue that differs from them (a spleen of another brightness, a scan's own noise)
// lies far from every bank row and ranks with the lesions. The same body, elsewhere, holds the same
// tissue many times over, while a lesion is one of a kind. So each pooled cell is compared with the
// scan's own cells lying more than SCAN_REFERENCE_APART_MM away: far enough that a lesion (phantom and
// inserted lesions are 8-40 mm across) cannot find itself, near enough that an organ finds its other
// parts. Screened on the quality phantoms before it was built (bench/RESULTS.md, "The scan as its own
// reference").
//
// The cells are those of the scan, not of each window: overlapping windows describe a cell several
// times, and those descriptors are first averaged with the weights that blend the windows' maps
// (a cell counts most in the window it is central in, where the network sees most context). Each
// cell is then described once, searched once, and may be everyone's reference: searching every
// window's cells against a draw of every window's cells was six times the queries for the same body,
// and fewer cells gave lower scores ("The scan's cells described once", bench/RESULTS.md).
//
// Prediction with it has two passes (predict-scan-reference.ts): the descriptors of every window
// first, kept on the CPU (windows x cells x d floats: 0.26 MB a window of the small preset), then the
// cell field blended from them, its cells searched against its reference on the GPU (nearestRows with
// positions apart), and each window's cells given their cell's score, upsampled and blended.
import type { Shape3 } from '../data/geometry/volume';
import type { Tensor } from '../graph/index';
import { Rng } from '../data/rng';
import { SCAN_REFERENCE_ROWS, type KnnReference, type Triple } from './config';

/** A reference row must lie farther than this from the cell it is compared with, in mm. */
export const SCAN_REFERENCE_APART_MM = 32;
/** Where the scan has more cells than the reference takes, the draw is the same at every run. */
const SCAN_REFERENCE_SEED = 1;

/** What a model must offer to be scored against its scan (Screener does, for a knn density). */
export interface ScanReferenceModel {
  readonly reference: Exclude<KnnReference, 'bank'>;
  /** The most of the scan's cells its reference takes (the config's density.referenceRows). */
  readonly rows: number;
  readonly poolStride: Triple;
  /** Pooled descriptors [N, D/pd, H/ph, W/pw, d] of windows [N, D, H, W, 1]; no gradient, the caller's scope. */
  pooledDescriptors(image: Tensor): Tensor;
  /** The distance of each row of descriptors [M, d] to the nearest row of the model's bank, [M]. */
  bankDistance(descriptors: Tensor): Tensor;
}

/** The scan's cells of `stride` voxels, each described once. */
export interface CellField {
  /** Cells per axis: the preprocessed grid divided by the stride, rounded up. */
  grid: Shape3;
  /** [cells, d] descriptors, the windows' descriptors of each cell averaged (0 where no window covers a cell). */
  descriptors: Float32Array;
  /** [cells, 3] cell centres in mm from the first voxel's centre of the preprocessed grid. */
  centres: Float32Array;
  /** 1 where the cell holds at least one body voxel: only those are scored (the others score 0). */
  touchesBody: Uint8Array;
  /** 1 where every voxel of the cell is in the body: only those may be reference rows. */
  inBody: Uint8Array;
  /** Per window, the field cell of each of its cells (windowFieldCells): where its cells' scores come from. */
  windowCells: Int32Array[];
}

/**
 * Along one axis, the scan cell of cell `a` of a window starting at voxel `origin`: the one holding the
 * window cell's centre. Window starts need not be multiples of the stride (they spread evenly over the
 * scan, window-placement.ts); a cell of such a window then goes to the lower of the two it straddles.
 */
export function scanCellOf(origin: number, a: number, stride: number): number {
  return Math.floor((2 * origin + 2 * a * stride + stride - 1) / (2 * stride));
}

/** The cell of the field each cell of the window at `origin` falls in (row-major over the window's cells), -1 outside the scan. */
export function windowFieldCells(origin: Shape3, window: Shape3, stride: Triple, grid: Shape3): Int32Array {
  const cells = [0, 1, 2].map((a) => window[a]! / stride[a]!);
  const out = new Int32Array(cells[0]! * cells[1]! * cells[2]!);
  let cell = 0;
  for (let a = 0; a < cells[0]!; a++) {
    const z = scanCellOf(origin[0], a, stride[0]);
    for (let b = 0; b < cells[1]!; b++) {
      const y = scanCellOf(origin[1], b, stride[1]);
      for (let c = 0; c < cells[2]!; c++, cell++) {
        const x = scanCellOf(origin[2], c, stride[2]);
        const inside = z >= 0 && y >= 0 && x >= 0 && z < grid[0] && y < grid[1] && x < grid[2];
        out[cell] = inside ? (z * grid[1] + y) * grid[2] + x : -1;
      }
    }
  }
  return out;
}

/**
 * The cell field of a preprocessed scan of `shape` and `spacing` (voxels, mm) from the pooled descriptors
 * of the windows at `origins` ([cells, d] each, row-major over the window's cells), each window's cell
 * weighted by the sum of `weights` (the window's blending weights, row-major over its voxels) over its voxels.
 */
export function blendCellField(
  descriptors: readonly Float32Array[],
  origins: readonly Shape3[],
  window: Shape3,
  stride: Triple,
  weights: ArrayLike<number>,
  shape: Shape3,
  spacing: readonly number[],
  body: Uint8Array,
  d: number,
): CellField {
  const grid = [0, 1, 2].map((a) => Math.ceil(shape[a]! / stride[a]!)) as Shape3;
  const count = grid[0] * grid[1] * grid[2];
  const windowGrid = [0, 1, 2].map((a) => window[a]! / stride[a]!);
  const cellWeights = new Float64Array(windowGrid[0]! * windowGrid[1]! * windowGrid[2]!);
  for (let z = 0; z < window[0]; z++) {
    for (let y = 0; y < window[1]; y++) {
      for (let x = 0; x < window[2]; x++) {
        const cell = (Math.floor(z / stride[0]) * windowGrid[1]! + Math.floor(y / stride[1])) * windowGrid[2]! + Math.floor(x / stride[2]);
        cellWeights[cell]! += weights[(z * window[1] + y) * window[2] + x]!;
      }
    }
  }
  // Float64 sums, as the map's blending keeps them.
  const sums = new Float64Array(count * d);
  const weightSums = new Float64Array(count);
  const windowCells = origins.map((origin) => windowFieldCells(origin, window, stride, grid));
  windowCells.forEach((cells, w) => {
    const values = descriptors[w]!;
    cells.forEach((f, cell) => {
      if (f < 0) return;
      const weight = cellWeights[cell]!;
      weightSums[f]! += weight;
      for (let k = 0; k < d; k++) sums[f * d + k]! += weight * values[cell * d + k]!;
    });
  });
  const field: CellField = {
    grid,
    descriptors: new Float32Array(count * d),
    centres: new Float32Array(count * 3),
    touchesBody: new Uint8Array(count),
    inBody: new Uint8Array(count),
    windowCells,
  };
  const full = stride[0] * stride[1] * stride[2];
  let f = 0;
  for (let a = 0; a < grid[0]; a++) {
    for (let b = 0; b < grid[1]; b++) {
      for (let c = 0; c < grid[2]; c++, f++) {
        const covered = weightSums[f]! > 0;
        if (covered) for (let k = 0; k < d; k++) field.descriptors[f * d + k] = sums[f * d + k]! / weightSums[f]!;
        const first = [a * stride[0], b * stride[1], c * stride[2]];
        for (let axis = 0; axis < 3; axis++) field.centres[f * 3 + axis] = (first[axis]! + (stride[axis]! - 1) / 2) * spacing[axis]!;
        let inside = 0;
        for (let z = first[0]!; z < Math.min(first[0]! + stride[0], shape[0]); z++) {
          for (let y = first[1]!; y < Math.min(first[1]! + stride[1], shape[1]); y++) {
            for (let x = first[2]!; x < Math.min(first[2]! + stride[2], shape[2]); x++) if (body[(z * shape[1] + y) * shape[2] + x]) inside++;
          }
        }
        field.touchesBody[f] = covered && inside > 0 ? 1 : 0;
        field.inBody[f] = covered && inside === full ? 1 : 0;
      }
    }
  }
  return field;
}

/**
 * Takes the cells of a padded image's mirrored part (cut-face-padding.ts) out of the reference: a cell
 * there is a copy of one inside, and would be the nearest row of its original. The padding before the
 * scan is a multiple of the stride, so cells start where the scan does; a cell holding the scan's last
 * voxels and mirrored ones is left out too, as a cell cut by the scan's end is without padding.
 */
export function keepReferenceInside(field: CellField, stride: Triple, paddedShape: Shape3, padding: { before: Shape3; after: Shape3 }): void {
  const lo = [0, 1, 2].map((a) => padding.before[a]! / stride[a]!);
  const hi = [0, 1, 2].map((a) => Math.floor((paddedShape[a]! - padding.after[a]!) / stride[a]!));
  if (!lo.every(Number.isInteger)) throw new RangeError(`keepReferenceInside: padding ${padding.before.join('x')} is not a multiple of the stride ${stride.join('x')}`);
  const [, H, W] = field.grid;
  field.inBody.forEach((inside, f) => {
    if (!inside) return;
    const cell = [Math.floor(f / (H * W)), Math.floor(f / W) % H, f % W];
    if (cell.some((c, a) => c < lo[a]! || c >= hi[a]!)) field.inBody[f] = 0;
  });
}

export interface ScanReference {
  /** [count, d] descriptors and [count, 3] centres in mm of the reference cells. */
  rows: Float32Array;
  positions: Float32Array;
  count: number;
}

/**
 * The field's cells wholly in the body, all of them in order when there are at most `size`, else `size`
 * of them drawn without replacement (the same draw at every run). Empty when no cell lies wholly in the body.
 */
export function drawScanReference(field: CellField, d: number, size = SCAN_REFERENCE_ROWS): ScanReference {
  const candidates: number[] = [];
  field.inBody.forEach((inside, f) => inside && candidates.push(f));
  const total = candidates.length;
  const count = Math.min(size, total);
  if (count < total) {
    // A partial Fisher-Yates shuffle: the first `count` are the draw.
    const rng = new Rng(SCAN_REFERENCE_SEED);
    for (let i = 0; i < count; i++) {
      const j = rng.int(i, total - 1);
      [candidates[i], candidates[j]] = [candidates[j]!, candidates[i]!];
    }
  }
  const rows = new Float32Array(count * d);
  const positions = new Float32Array(count * 3);
  for (let i = 0; i < count; i++) {
    const f = candidates[i]!;
    rows.set(field.descriptors.subarray(f * d, (f + 1) * d), i * d);
    positions.set(field.centres.subarray(f * 3, f * 3 + 3), i * 3);
  }
  return { rows, positions, count };
}

/**
 * Each cell's score from the index of its nearest reference row (-1: none lay far enough, in a body
 * under twice SCAN_REFERENCE_APART_MM across) and, for 'both', its distance to the bank: the Euclidean
 * distance to that row, the smaller of the two for 'both', and 0 for cells with no body voxel or no row
 * far enough (no evidence either way, like the air that the map's floor gives the body's minimum).
 */
export function cellScores(
  descriptors: Float32Array,
  nearest: ArrayLike<number>,
  reference: ScanReference,
  touchesBody: Uint8Array,
  d: number,
  bankDistance: ArrayLike<number> | null,
): Float32Array {
  const scores = new Float32Array(touchesBody.length);
  for (let cell = 0; cell < scores.length; cell++) {
    const j = nearest[cell]!;
    if (!touchesBody[cell] || j < 0) continue;
    let sum = 0;
    for (let k = 0; k < d; k++) sum += (descriptors[cell * d + k]! - reference.rows[j * d + k]!) ** 2;
    const own = Math.sqrt(sum);
    scores[cell] = bankDistance ? Math.min(own, bankDistance[cell]!) : own;
  }
  return scores;
}
