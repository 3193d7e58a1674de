// The scan as its own reference, for a knn density whose reference is 'scan' or 'both' (config.ts,
// KnnReference). A bank drawn from training scans holds other bodies: their contrast, texture and
// anatomy, so healthy tissue that differs from them (a spleen of another brightness, a scan's own noise)
// lies far from every bank row and ranks with the lesions. The same body, elsewhere, holds the same
// tissue many times over, while a lesion is one of a kind. So each pooled cell is compared with a
// sample of the scan's own cells lying more than SCAN_REFERENCE_APART_MM away: far enough that a lesion
// (phantom and inserted lesions are 8-40 mm across) cannot find itself, near enough that an organ
// finds its other parts. Screened on the quality phantoms before it was built (bench/RESULTS.md,
// "The scan as its own reference").
//
// Prediction with it has two passes (predict.ts): the descriptors of every window first, kept on the
// CPU (windows x cells x d floats: 0.26 MB a window of the small preset), then the reference drawn from
// them and each window's cells searched against it on the GPU (nearestRows with positions apart).
import type { Shape3 } from '../data/geometry/volume';
import type { Tensor } from '../graph/index';
import { Rng } from '../data/rng';
import { SCAN_REFERENCE_ROWS, type KnnReference, type Triple } from './config';

/** A reference row must lie farther than this from the cell it is compared with, in mm. */
export const SCAN_REFERENCE_APART_MM = 32;
/** The draw is the same for every scan, so a scan's map is the same at every run. */
const SCAN_REFERENCE_SEED = 1;

/** What a model must offer to be scored against its scan (Screener does, for a knn density). */
export interface ScanReferenceModel {
  readonly reference: Exclude<KnnReference, 'bank'>;
  /** How many of the scan's cells are drawn as its reference (the config's density.referenceRows). */
  readonly rows: number;
  readonly poolStride: Triple;
  /** Pooled descriptors [N, D/pd, H/ph, W/pw, d] of windows [N, D, H, W, 1]; no gradient, the caller's scope. */
  pooledDescriptors(image: Tensor): Tensor;
  /** The distance of each row of descriptors [M, d] to the nearest row of the model's bank, [M]. */
  bankDistance(descriptors: Tensor): Tensor;
}

/** Where the pooled cells of one window lie. */
export interface WindowCells {
  /** Cell centres in mm from the first voxel's centre of the preprocessed grid, [cells, 3]. */
  centres: Float32Array;
  /** 1 where the cell holds at least one body voxel: only those are scored (the others score 0). */
  touchesBody: Uint8Array;
  /** 1 where every voxel of the cell is in the body: only those may be drawn as reference. */
  inBody: Uint8Array;
}

/**
 * The cells of the window at `origin` (voxels of the preprocessed grid of `shape` and `spacing`), each
 * `stride` voxels, in the row-major order of the pooled map; voxels outside the scan are not body.
 */
export function windowCells(origin: Shape3, window: Shape3, stride: Triple, shape: Shape3, spacing: readonly number[], body: Uint8Array): WindowCells {
  const grid = [0, 1, 2].map((a) => window[a]! / stride[a]!);
  const count = grid[0]! * grid[1]! * grid[2]!;
  const centres = new Float32Array(count * 3);
  const touchesBody = new Uint8Array(count);
  const inBody = new Uint8Array(count);
  const full = stride[0] * stride[1] * stride[2];
  let cell = 0;
  for (let a = 0; a < grid[0]!; a++) {
    for (let b = 0; b < grid[1]!; b++) {
      for (let c = 0; c < grid[2]!; c++, cell++) {
        const first = [origin[0] + a * stride[0], origin[1] + b * stride[1], origin[2] + c * stride[2]];
        for (let axis = 0; axis < 3; axis++) centres[cell * 3 + axis] = (first[axis]! + (stride[axis]! - 1) / 2) * spacing[axis]!;
        let inside = 0;
        for (let z = first[0]!; z < first[0]! + stride[0]; z++) {
          for (let y = first[1]!; y < first[1]! + stride[1]; y++) {
            for (let x = first[2]!; x < first[2]! + stride[2]; x++) {
              const inScan = z >= 0 && y >= 0 && x >= 0 && z < shape[0] && y < shape[1] && x < shape[2];
              if (inScan && body[(z * shape[1] + y) * shape[2] + x]) inside++;
            }
          }
        }
        touchesBody[cell] = inside > 0 ? 1 : 0;
        inBody[cell] = inside === full ? 1 : 0;
      }
    }
  }
  return { centres, touchesBody, inBody };
}

export interface ScanReference {
  /** [count, d] descriptors and [count, 3] centres in mm of the drawn cells. */
  rows: Float32Array;
  positions: Float32Array;
  count: number;
}

/**
 * Up to `size` cells drawn without replacement from the cells wholly in the body of every window
 * (windows in order, cells in order: a cell covered by several windows may be drawn once for each,
 * with each window's descriptor of it). Empty when no cell lies wholly in the body.
 */
export function drawScanReference(descriptors: readonly Float32Array[], cells: readonly WindowCells[], d: number, size = SCAN_REFERENCE_ROWS): ScanReference {
  const candidates: number[] = [];
  cells.forEach((c, w) => c.inBody.forEach((inside, cell) => inside && candidates.push(w, cell)));
  const total = candidates.length / 2;
  const count = Math.min(size, total);
  const rng = new Rng(SCAN_REFERENCE_SEED);
  const rows = new Float32Array(count * d);
  const positions = new Float32Array(count * 3);
  // A partial Fisher-Yates shuffle of the candidate pairs: the first `count` are the draw.
  for (let i = 0; i < count; i++) {
    const j = rng.int(i, total - 1);
    for (const k of [0, 1]) [candidates[2 * i + k], candidates[2 * j + k]] = [candidates[2 * j + k]!, candidates[2 * i + k]!];
    const w = candidates[2 * i]!;
    const cell = candidates[2 * i + 1]!;
    rows.set(descriptors[w]!.subarray(cell * d, (cell + 1) * d), i * d);
    positions.set(cells[w]!.centres.subarray(cell * 3, cell * 3 + 3), i * 3);
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
