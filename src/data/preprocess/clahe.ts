// 3-D contrast-limited adaptive histogram equalisation with the semantics of scikit-image's
// exposure.equalize_adapthist (which the Screener paper's code calls with clip_limit = 0.05):
//   - the [0, 1] input is quantised to 16-bit, stretched to 2^14 grey levels and binned into nbins;
//   - contextual regions of kernelSize voxels (default: a 1/8 of each side) tile the image, which is
//     padded by reflection so that the regions are centred half a kernel in;
//   - each region's histogram is clipped at clipLimit * (voxels per region), the excess redistributed,
//     and its cumulative sum becomes that region's grey-level mapping;
//   - every voxel's value is the multilinear interpolation of the mappings of the 2^3 regions around it,
//     truncated to an integer grey level, and the result is rescaled to [0, 1] by its min and max.
import { voxelCount, type Shape3, type Vec3 } from '../geometry/volume';

export interface ClaheOptions {
  clipLimit?: number;
  /** Contextual region size in voxels along (D, H, W); default max(1, floor(side / 8)). */
  kernelSize?: Vec3;
  nbins?: number;
}

export const CLAHE_CLIP_LIMIT = 0.05;
const GREY_LEVELS = 16384;

/** numpy's rint: round half to even. */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** numpy's 'reflect' padding index (the edge voxel is not repeated). */
export function reflectIndex(x: number, n: number): number {
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  let m = x % period;
  if (m < 0) m += period;
  return m < n ? m : period - m;
}

export function defaultKernelSize(shape: Shape3): Vec3 {
  return shape.map((s) => Math.max(1, Math.floor(s / 8))) as Vec3;
}

/** Clips a histogram in place and redistributes the excess, exactly as skimage's clip_histogram. */
export function clipHistogram(hist: Int32Array, clipLimit: number): void {
  const nbins = hist.length;
  let excess = 0;
  for (let i = 0; i < nbins; i++) {
    if (hist[i]! > clipLimit) {
      excess += hist[i]! - clipLimit;
      hist[i] = clipLimit;
    }
  }
  const binIncrement = Math.floor(excess / nbins);
  const upper = clipLimit - binIncrement;
  for (let i = 0; i < nbins; i++) {
    if (hist[i]! < upper) {
      hist[i]! += binIncrement;
      excess -= binIncrement;
    }
  }
  for (let i = 0; i < nbins; i++) {
    const h = hist[i]!;
    if (h >= upper && h < clipLimit) {
      excess += h - clipLimit;
      hist[i] = clipLimit;
    }
  }
  while (excess > 0) {
    const before = excess;
    for (let index = 0; index < nbins; index++) {
      let under = 0;
      for (let i = 0; i < nbins; i++) if (hist[i]! < clipLimit) under++;
      const step = Math.max(1, Math.floor(under / excess));
      for (let i = index; i < nbins; i += step) {
        if (hist[i]! < clipLimit) {
          hist[i]! += 1;
          excess--;
        }
      }
      if (excess <= 0) break;
    }
    if (before === excess) break;
  }
}

interface AxisInterpolation {
  lower: Int32Array;
  upper: Int32Array;
  t: Float64Array;
}

/** Which two regions each voxel along an axis blends, and with what weight on the upper one. */
function axisInterpolation(n: number, k: number, regions: number): AxisInterpolation {
  const lower = new Int32Array(n);
  const upper = new Int32Array(n);
  const t = new Float64Array(n);
  const padStart = Math.floor(k / 2);
  for (let x = 0; x < n; x++) {
    const p = x + padStart;
    const block = Math.floor(p / k);
    lower[x] = Math.min(Math.max(block - 1, 0), regions - 1);
    upper[x] = Math.min(Math.max(block, 0), regions - 1);
    t[x] = (p % k) / k;
  }
  return { lower, upper, t };
}

/** CLAHE of a [0, 1] image; returns a new [0, 1] image. */
export function clahe3d(image: Float32Array, shape: Shape3, options: ClaheOptions = {}): Float32Array {
  const clipLimit = options.clipLimit ?? CLAHE_CLIP_LIMIT;
  const nbins = options.nbins ?? 256;
  const kernel = options.kernelSize ?? defaultKernelSize(shape);
  const [D, H, W] = shape;
  const n = voxelCount(shape);

  // Quantise: float -> uint16 (img_as_uint), then stretch to the grey levels and round.
  const grey = new Uint16Array(n);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    const u = Math.min(Math.max(roundHalfEven(image[i]! * 65535), 0), 65535);
    grey[i] = u;
    if (u < lo) lo = u;
    if (u > hi) hi = u;
  }
  for (let i = 0; i < n; i++) {
    grey[i] = hi > lo ? roundHalfEven(((grey[i]! - lo) / (hi - lo)) * (GREY_LEVELS - 1)) : Math.min(grey[i]!, GREY_LEVELS - 1);
  }
  const binSize = 1 + Math.floor(GREY_LEVELS / nbins);
  const bins = new Uint16Array(n);
  for (let i = 0; i < n; i++) bins[i] = Math.floor(grey[i]! / binSize);

  // One mapping per contextual region; regions cover the reflect-padded image.
  const [kd, kh, kw] = kernel;
  const regions = [Math.ceil(D / kd), Math.ceil(H / kh), Math.ceil(W / kw)] as Shape3;
  const regionVoxels = kd * kh * kw;
  const clip = clipLimit > 0 ? Math.max(1, Math.floor(clipLimit * regionVoxels)) : regionVoxels;
  const regionCount = voxelCount(regions);
  const maps = new Float64Array(regionCount * nbins);
  const hist = new Int32Array(nbins);
  const scale = (GREY_LEVELS - 1) / regionVoxels;
  const ih = new Int32Array(kh);
  const iw = new Int32Array(kw);
  for (let rd = 0; rd < regions[0]; rd++) {
    for (let rh = 0; rh < regions[1]; rh++) {
      for (let y = 0; y < kh; y++) ih[y] = reflectIndex(rh * kh + y, H) * W;
      for (let rw = 0; rw < regions[2]; rw++) {
        for (let x = 0; x < kw; x++) iw[x] = reflectIndex(rw * kw + x, W);
        hist.fill(0);
        for (let z = 0; z < kd; z++) {
          const slice = reflectIndex(rd * kd + z, D) * H * W;
          for (let y = 0; y < kh; y++) {
            const row = slice + ih[y]!;
            for (let x = 0; x < kw; x++) hist[bins[row + iw[x]!]!]!++;
          }
        }
        clipHistogram(hist, clip);
        const base = ((rd * regions[1] + rh) * regions[2] + rw) * nbins;
        let sum = 0;
        for (let b = 0; b < nbins; b++) {
          sum += hist[b]!;
          maps[base + b] = Math.trunc(Math.min(sum * scale, GREY_LEVELS - 1));
        }
      }
    }
  }

  // Blend the eight surrounding mappings per voxel.
  const ad = axisInterpolation(D, kd, regions[0]);
  const ah = axisInterpolation(H, kh, regions[1]);
  const aw = axisInterpolation(W, kw, regions[2]);
  const rowStride = regions[2] * nbins;
  const sliceStride = regions[1] * rowStride;
  const result = new Float64Array(n);
  let rmin = Infinity;
  let rmax = -Infinity;
  let i = 0;
  for (let d = 0; d < D; d++) {
    const d0 = ad.lower[d]! * sliceStride, d1 = ad.upper[d]! * sliceStride, td = ad.t[d]!;
    for (let h = 0; h < H; h++) {
      const h0 = ah.lower[h]! * rowStride, h1 = ah.upper[h]! * rowStride, th = ah.t[h]!;
      for (let w = 0; w < W; w++, i++) {
        const w0 = aw.lower[w]! * nbins, w1 = aw.upper[w]! * nbins, tw = aw.t[w]!;
        const b = bins[i]!;
        const v =
          (1 - td) * ((1 - th) * ((1 - tw) * maps[d0 + h0 + w0 + b]! + tw * maps[d0 + h0 + w1 + b]!) +
            th * ((1 - tw) * maps[d0 + h1 + w0 + b]! + tw * maps[d0 + h1 + w1 + b]!)) +
          td * ((1 - th) * ((1 - tw) * maps[d1 + h0 + w0 + b]! + tw * maps[d1 + h0 + w1 + b]!) +
            th * ((1 - tw) * maps[d1 + h1 + w0 + b]! + tw * maps[d1 + h1 + w1 + b]!));
        // skimage casts the blended value back to the integer grey-level type (truncation); the hair
        // added keeps round-off just below an exact level (all eight maps equal) from dropping a level.
        const level = Math.trunc(v + 1e-9);
        result[i] = level;
        if (level < rmin) rmin = level;
        if (level > rmax) rmax = level;
      }
    }
  }
  const out = new Float32Array(n);
  const range = rmax - rmin;
  for (let j = 0; j < n; j++) out[j] = range > 0 ? (result[j]! - rmin) / range : Math.min(Math.max(result[j]!, 0), 1);
  return out;
}
