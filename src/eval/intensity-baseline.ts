// The intensity-outlier baseline: no learning, only statistics of healthy intensities by position.
//
// Definition (stated in every report that uses it):
//   - Scans are preprocessed exactly as for Screener (body crop, resampling, HU window, CLAHE), so the
//     preprocessed grid spans the body's bounding box and a voxel's relative body position is
//     r = (index + 0.5) / extent per axis, in (0, 1)^3.
//   - A voxel's intensity x~ is the preprocessed intensity smoothed by a Gaussian of SMOOTH_SIGMA voxels
//     (so that CT noise alone is not an outlier).
//   - Fitting: the fit scans' body voxels fill, per cell of an atlas of ATLAS_CELLS cells per axis
//     over r, a histogram of x~ (HISTOGRAM_BINS bins over [0, 1]); the histograms are pooled over a
//     neighbourhood of NEIGHBOURHOOD_SIGMA cells (Gaussian in space) and of one bin (Gaussian over
//     intensity), and mixed with a uniform floor of weight FLOOR_MASS so that no intensity is impossible.
//   - Score: the negative log-probability of the voxel's x~ under the histograms at its position,
//     trilinearly interpolated between cells: -log p(x~ | r). A histogram, unlike a mean and standard
//     deviation, lets a position show several tissues (lung or vessel, fat or muscle) as normal.
// No labels are used: on real data the fit scans may hold pathology of their own, as Screener's do.
import { gaussianBlur3d, gaussianKernel } from '../data/preprocess/filters';
import type { PreprocessOptions, PreprocessRequest } from '../data/preprocess/preprocess';
import { voxelCount, type Shape3 } from '../data/geometry/volume';

export const ATLAS_CELLS: Shape3 = [16, 16, 16];
export const HISTOGRAM_BINS = 32;
export const SMOOTH_SIGMA = 1;
export const NEIGHBOURHOOD_SIGMA = 1;
export const FLOOR_MASS = 0.01;
/**
 * The voxel size the baseline preprocesses to unless told otherwise, alone or beside a model. A finer
 * grid than the shipped model's 4 mm keeps the edges of small lesions: on the quality phantoms the
 * baseline at 2.5 mm ranks and outlines the trained kinds better than at 4 mm (bench/RESULTS.md, "The
 * baseline at its own voxel size").
 */
export const BASELINE_SPACING_MM = 2.5;

/**
 * The baseline's preprocessing: a model's when one is beside it (its HU window, body threshold and CLAHE,
 * so both see the same intensities), at `spacingMm` or BASELINE_SPACING_MM. The evaluation combines the
 * two maps on the scan's own grid, so the voxel sizes need not agree.
 */
export function baselinePreprocess(model: Partial<PreprocessOptions> | undefined, spacingMm = BASELINE_SPACING_MM): PreprocessRequest {
  return { ...model, targetSpacing: [spacingMm, spacingMm, spacingMm] };
}

export const INTENSITY_BASELINE_DEFINITION =
  `intensity outlier -log p(x~ | r): x~ is the preprocessed intensity smoothed by a Gaussian of ${SMOOTH_SIGMA} voxel, r the voxel's ` +
  `relative position in the body's bounding box, p a histogram of x~ (${HISTOGRAM_BINS} bins) over the fit scans' body voxels per cell of an ` +
  `atlas of ${ATLAS_CELLS.join('x')} cells over r, pooled over a Gaussian neighbourhood of ${NEIGHBOURHOOD_SIGMA} cell and 1 bin, ` +
  `with a ${FLOOR_MASS} uniform floor; no labels are used`;

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

function binOf(x: number): number {
  return Math.min(HISTOGRAM_BINS - 1, Math.max(0, Math.floor(x * HISTOGRAM_BINS)));
}

export class IntensityAtlas {
  private constructor(
    readonly cells: Shape3,
    /** Per cell, HISTOGRAM_BINS probabilities: probability[cell * HISTOGRAM_BINS + bin]. */
    readonly probability: Float32Array,
    readonly scans: number,
  ) {}

  static fit(scans: Iterable<ScanForBaseline>, cells: Shape3 = ATLAS_CELLS): IntensityAtlas {
    const n = voxelCount(cells);
    const counts = new Float64Array(n * HISTOGRAM_BINS);
    let fitted = 0;
    let total = 0;
    for (const scan of scans) {
      const x = gaussianBlur3d(scan.data, scan.shape, SMOOTH_SIGMA);
      const cell = cellIndices(scan.shape, cells);
      for (let i = 0; i < x.length; i++) {
        if (!scan.body[i]) continue;
        counts[cell[i]! * HISTOGRAM_BINS + binOf(x[i]!)]!++;
        total++;
      }
      fitted++;
    }
    if (fitted === 0) throw new Error('intensity baseline: no scans to fit');
    if (total === 0) throw new Error('intensity baseline: the fit scans have no body voxels');
    // Pool each bin's counts over neighbouring cells, then each cell's histogram over neighbouring bins.
    const pooled = new Float32Array(n * HISTOGRAM_BINS);
    const plane = new Float32Array(n);
    for (let b = 0; b < HISTOGRAM_BINS; b++) {
      for (let c = 0; c < n; c++) plane[c] = counts[c * HISTOGRAM_BINS + b]!;
      const blurred = gaussianBlur3d(plane, cells, NEIGHBOURHOOD_SIGMA);
      for (let c = 0; c < n; c++) pooled[c * HISTOGRAM_BINS + b] = blurred[c]!;
    }
    const kernel = gaussianKernel(1);
    const radius = (kernel.length - 1) / 2;
    const probability = new Float32Array(n * HISTOGRAM_BINS);
    for (let c = 0; c < n; c++) {
      const row = new Float64Array(HISTOGRAM_BINS);
      let sum = 0;
      for (let b = 0; b < HISTOGRAM_BINS; b++) {
        for (let k = -radius; k <= radius; k++) {
          const j = Math.min(HISTOGRAM_BINS - 1, Math.max(0, b + k));
          row[b]! += kernel[k + radius]! * pooled[c * HISTOGRAM_BINS + j]!;
        }
        sum += row[b]!;
      }
      // A cell no scan reached is uniform: nothing there is known to be normal or not.
      for (let b = 0; b < HISTOGRAM_BINS; b++) {
        const p = sum > 0 ? row[b]! / sum : 1 / HISTOGRAM_BINS;
        probability[c * HISTOGRAM_BINS + b] = (1 - FLOOR_MASS) * p + FLOOR_MASS / HISTOGRAM_BINS;
      }
    }
    return new IntensityAtlas(cells, probability, fitted);
  }

  /** The -log p(x~ | r) map of a preprocessed scan (every voxel; callers restrict to the body). */
  score(scan: Omit<ScanForBaseline, 'body'>): Float32Array {
    const x = gaussianBlur3d(scan.data, scan.shape, SMOOTH_SIGMA);
    const [D, H, W] = scan.shape;
    // Cell centres sit at (c + 0.5) / cells in r, voxel centres at (i + 0.5) / extent: per axis, the two
    // nearest cell centres and the weight of the upper one (edges clamped).
    const taps = (extent: number, cells: number) =>
      Array.from({ length: extent }, (_, i) => {
        const u = Math.min(Math.max(((i + 0.5) / extent) * cells - 0.5, 0), cells - 1);
        const lo = Math.floor(u);
        return { lo, hi: Math.min(lo + 1, cells - 1), t: u - lo };
      });
    const [td, th, tw] = [taps(D, this.cells[0]), taps(H, this.cells[1]), taps(W, this.cells[2])];
    const [, CH, CW] = this.cells;
    const out = new Float32Array(x.length);
    let i = 0;
    for (let d = 0; d < D; d++) {
      const a = td[d]!;
      for (let h = 0; h < H; h++) {
        const b = th[h]!;
        for (let w = 0; w < W; w++, i++) {
          const c = tw[w]!;
          const bin = binOf(x[i]!);
          let p = 0;
          for (const [cd, wd] of [[a.lo, 1 - a.t], [a.hi, a.t]] as const)
            for (const [ch, wh] of [[b.lo, 1 - b.t], [b.hi, b.t]] as const)
              for (const [cw, ww] of [[c.lo, 1 - c.t], [c.hi, c.t]] as const) {
                const weight = wd * wh * ww;
                if (weight > 0) p += weight * this.probability[((cd * CH + ch) * CW + cw) * HISTOGRAM_BINS + bin]!;
              }
          out[i] = -Math.log(p);
        }
      }
    }
    return out;
  }
}
