// Where the sliding windows of whole-scan inference go, and how much each voxel of a window counts.
//
// Along each axis of length L with a window of w voxels and overlap o (0.5 in the paper):
//   L <= w  one window, the scan centred in it; the rest of the window is padding (PAD_VALUE);
//   L >  w  n = ceil((L - w) / step) + 1 windows with step = floor(w * (1 - o)), their starts spread
//           evenly from 0 to L - w (rounded), so neighbours overlap by at least o and every voxel is
//           covered (consecutive starts are at most `step` <= w apart).
// Blending weights are a Gaussian centred on the window, sigma = w / 8 per axis (as nnU-Net), so
// window borders, where a convolutional network sees the least context, count the least. The weight
// is floored at MIN_WEIGHT so that a voxel only ever seen at window corners still gets a finite mean.
// Everything here is plain arithmetic on typed arrays: it runs in browsers and Node alike.
import type { Shape3 } from '../data/geometry/volume';

export const DEFAULT_OVERLAP = 0.5;
export const GAUSSIAN_SIGMA_FRACTION = 1 / 8;
export const MIN_WEIGHT = 1e-4;
/** Preprocessed intensity given to window voxels outside the scan: 0 is air after HU windowing. */
export const PAD_VALUE = 0;

/** Window starts along one axis (may be negative: a window larger than the axis is centred on it). */
export function windowStarts(length: number, window: number, overlap = DEFAULT_OVERLAP): number[] {
  if (!Number.isInteger(length) || length < 1) throw new RangeError(`windowStarts: axis length must be a positive integer, got ${length}`);
  if (!Number.isInteger(window) || window < 1) throw new RangeError(`windowStarts: window must be a positive integer, got ${window}`);
  if (!(overlap >= 0 && overlap < 1)) throw new RangeError(`windowStarts: overlap must be in [0, 1), got ${overlap}`);
  if (length <= window) return [0 - Math.floor((window - length) / 2)]; // 0 - x: never -0
  const step = Math.max(1, Math.floor(window * (1 - overlap)));
  const n = Math.ceil((length - window) / step) + 1;
  const starts: number[] = [];
  for (let i = 0; i < n; i++) starts.push(Math.round((i * (length - window)) / (n - 1)));
  return starts;
}

/** Every window origin [d, h, w] over a scan, D slowest (the order inference visits them). */
export function placeWindows(shape: Shape3, window: Shape3, overlap = DEFAULT_OVERLAP): Shape3[] {
  const [sd, sh, sw] = [0, 1, 2].map((a) => windowStarts(shape[a]!, window[a]!, overlap));
  const origins: Shape3[] = [];
  for (const d of sd!) for (const h of sh!) for (const w of sw!) origins.push([d, h, w]);
  return origins;
}

/** The Gaussian weight of each voxel of a window, row-major [D, H, W], 1 at the centre. */
export function gaussianWindowWeights(window: Shape3, sigmaFraction = GAUSSIAN_SIGMA_FRACTION): Float32Array {
  const axes = window.map((w) => {
    const sigma = sigmaFraction * w;
    const g = new Float64Array(w);
    for (let i = 0; i < w; i++) {
      const x = i + 0.5 - w / 2;
      g[i] = Math.exp(-(x * x) / (2 * sigma * sigma));
    }
    const peak = Math.max(...g);
    for (let i = 0; i < w; i++) g[i]! /= peak;
    return g;
  });
  const [D, H, W] = window;
  const out = new Float32Array(D * H * W);
  let o = 0;
  for (let d = 0; d < D; d++)
    for (let h = 0; h < H; h++)
      for (let w = 0; w < W; w++) out[o++] = Math.max(MIN_WEIGHT, axes[0]![d]! * axes[1]![h]! * axes[2]![w]!);
  return out;
}

/**
 * Visits the rows of a window that lie inside the scan: for each, the flat index of its first voxel in
 * the scan and in the window, and the range [from, to) of its W offsets that fall inside the scan.
 */
export function forEachWindowRow(
  shape: Shape3,
  origin: Shape3,
  window: Shape3,
  row: (scanIndex: number, windowIndex: number, from: number, to: number) => void,
): void {
  const [D, H, W] = shape;
  const [wd, wh, ww] = window;
  const from = Math.max(0, -origin[2]);
  const to = Math.min(ww, W - origin[2]);
  for (let d = 0; d < wd; d++) {
    const sd = origin[0] + d;
    if (sd < 0 || sd >= D) continue;
    for (let h = 0; h < wh; h++) {
      const sh = origin[1] + h;
      if (sh < 0 || sh >= H) continue;
      row((sd * H + sh) * W + origin[2], (d * wh + h) * ww, from, to);
    }
  }
}

/** Copies the window at `origin` out of a scan; voxels outside the scan read PAD_VALUE. */
export function extractWindow(data: ArrayLike<number>, shape: Shape3, origin: Shape3, window: Shape3): Float32Array {
  const out = new Float32Array(window[0] * window[1] * window[2]).fill(PAD_VALUE);
  forEachWindowRow(shape, origin, window, (src, dst, from, to) => {
    for (let w = from; w < to; w++) out[dst + w] = data[src + w]!;
  });
  return out;
}
