// The intensity-outlier baseline: no learning, only statistics of healthy intensities by position.
//
// Definition (stated in every report that uses it):
//   - Scans are preprocessed exactly as for Screener (body crop, resampling, HU window, CLAHE), so the
//     preprocessed grid spans the body's bounding box and a voxel's relative body position is
//     r = (index + 0.5) / extent per axis, in (0, 1)^3.
//   - A voxel's intensity x~ is the preprocessed intensity smoothed by a Gaussian of SMOOTH_SIGMA voxels
//     (so that CT noise alone is not an outlier).
//   - Fitting: over the fit scans' body voxels, count, sum and sum of squares of x~ are collected in an
//     atlas of ATLAS_CELLS cells per axis over relative position, then pooled over a neighbourhood of
//     NEIGHBOURHOOD_SIGMA cells (Gaussian), giving a mean mu(r) and a standard deviation sigma(r)
//     (floored at SIGMA_FLOOR; cells no scan reached use the statistics of all body voxels).
//   - Score: z = |x~ - mu(r)| / sigma(r), mu and sigma trilinearly interpolated at r.
// No labels are used: on real data the fit scans may hold pathology of their own, as Screener's do.
import { gaussianBlur3d } from '../data/filters';
import { resampleTrilinear } from '../data/resample';
import { voxelCount, type Shape3 } from '../data/volume';

export const ATLAS_CELLS: Shape3 = [24, 24, 24];
export const SMOOTH_SIGMA = 1;
export const NEIGHBOURHOOD_SIGMA = 1;
export const SIGMA_FLOOR = 0.02;

export const INTENSITY_BASELINE_DEFINITION =
  `intensity outlier z = |x~ - mu(r)| / sigma(r): x~ is the preprocessed intensity smoothed by a Gaussian of ${SMOOTH_SIGMA} voxel, ` +
  `r the voxel's relative position in the body's bounding box, mu and sigma the mean and standard deviation of x~ over the fit scans' ` +
  `body voxels in an atlas of ${ATLAS_CELLS.join('x')} cells over r, pooled over a Gaussian neighbourhood of ${NEIGHBOURHOOD_SIGMA} cell ` +
  `(sigma floored at ${SIGMA_FLOOR}); no labels are used`;

export interface ScanForBaseline {
  /** Preprocessed intensities in [0, 1], row-major [D, H, W]. */
  data: Float32Array;
  shape: Shape3;
  /** Body mask on the same grid. */
  body: Uint8Array;
}

/** For each voxel of a grid, the index of its atlas cell (relative position r binned into ATLAS_CELLS). */
function cellIndices(shape: Shape3, cells: Shape3): Int32Array {
  const [D, H, W] = shape;
  const bin = (i: number, n: number, c: number) => Math.min(c - 1, Math.floor(((i + 0.5) / n) * c));
  const out = new Int32Array(D * H * W);
  let o = 0;
  for (let d = 0; d < D; d++) {
    const cd = bin(d, D, cells[0]);
    for (let h = 0; h < H; h++) {
      const ch = bin(h, H, cells[1]);
      for (let w = 0; w < W; w++) out[o++] = (cd * cells[1] + ch) * cells[2] + bin(w, W, cells[2]);
    }
  }
  return out;
}

export class IntensityAtlas {
  private constructor(
    readonly cells: Shape3,
    readonly mean: Float32Array,
    readonly std: Float32Array,
    readonly scans: number,
  ) {}

  static fit(scans: Iterable<ScanForBaseline>, cells: Shape3 = ATLAS_CELLS): IntensityAtlas {
    const n = voxelCount(cells);
    const count = new Float64Array(n);
    const sum = new Float64Array(n);
    const squares = new Float64Array(n);
    let fitted = 0;
    for (const scan of scans) {
      const x = gaussianBlur3d(scan.data, scan.shape, SMOOTH_SIGMA);
      const cell = cellIndices(scan.shape, cells);
      for (let i = 0; i < x.length; i++) {
        if (!scan.body[i]) continue;
        const c = cell[i]!;
        count[c]!++;
        sum[c]! += x[i]!;
        squares[c]! += x[i]! * x[i]!;
      }
      fitted++;
    }
    if (fitted === 0) throw new Error('intensity baseline: no scans to fit');
    let total = 0;
    let totalSum = 0;
    let totalSquares = 0;
    for (let c = 0; c < n; c++) (total += count[c]!), (totalSum += sum[c]!), (totalSquares += squares[c]!);
    if (total === 0) throw new Error('intensity baseline: the fit scans have no body voxels');
    const globalMean = totalSum / total;
    const globalStd = Math.sqrt(Math.max(0, totalSquares / total - globalMean * globalMean));
    // Pooling the sums (not the means) over the neighbourhood weights each cell by how many voxels it holds.
    const pool = (a: Float64Array) => gaussianBlur3d(Float32Array.from(a), cells, NEIGHBOURHOOD_SIGMA);
    const [pc, ps, pq] = [pool(count), pool(sum), pool(squares)];
    const mean = new Float32Array(n);
    const std = new Float32Array(n);
    for (let c = 0; c < n; c++) {
      // Less than one voxel's worth of evidence: fall back to the statistics of the whole body.
      if (pc[c]! < 1) {
        mean[c] = globalMean;
        std[c] = Math.max(SIGMA_FLOOR, globalStd);
        continue;
      }
      const m = ps[c]! / pc[c]!;
      mean[c] = m;
      std[c] = Math.max(SIGMA_FLOOR, Math.sqrt(Math.max(0, pq[c]! / pc[c]! - m * m)));
    }
    return new IntensityAtlas(cells, mean, std, fitted);
  }

  /** The z-score map of a preprocessed scan (every voxel; callers restrict to the body). */
  score(scan: Omit<ScanForBaseline, 'body'>): Float32Array {
    const x = gaussianBlur3d(scan.data, scan.shape, SMOOTH_SIGMA);
    // Cell centres sit at (c + 0.5) / cells in r, voxel centres at (i + 0.5) / extent: the same-extent
    // map of resampleTrilinear (edges clamped) puts the atlas onto the scan's grid.
    const scale = [0, 1, 2].map((a) => this.cells[a]! / scan.shape[a]!) as Shape3;
    const map = { scale, offset: scale.map((s) => 0.5 * s - 0.5) as Shape3 };
    const mean = resampleTrilinear(this.mean, this.cells, scan.shape, map);
    const std = resampleTrilinear(this.std, this.cells, scan.shape, map);
    const out = new Float32Array(x.length);
    for (let i = 0; i < x.length; i++) out[i] = Math.abs(x[i]! - mean[i]!) / std[i]!;
    return out;
  }
}
