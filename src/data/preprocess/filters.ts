// Separable Gaussian filtering of a [D, H, W] volume, edges replicated. Used for the phantoms'
// partial-volume blur and correlated noise, and for the sampler's blur/sharpen augmentation.
import type { Shape3, Vec3 } from '../geometry/volume';

export function gaussianKernel(sigma: number): Float32Array {
  if (!(sigma > 0)) return new Float32Array([1]);
  const radius = Math.max(1, Math.ceil(3 * sigma));
  const k = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let i = -radius; i <= radius; i++) sum += k[i + radius] = Math.exp(-(i * i) / (2 * sigma * sigma));
  for (let i = 0; i < k.length; i++) k[i]! /= sum;
  return k;
}

/** Convolves along one axis (0 = D, 1 = H, 2 = W) from `src` into `dst`. */
function convolveAxis(src: Float32Array, dst: Float32Array, shape: Shape3, axis: number, kernel: Float32Array): void {
  const [D, H, W] = shape;
  const n = shape[axis]!;
  const stride = axis === 0 ? H * W : axis === 1 ? W : 1;
  const radius = (kernel.length - 1) / 2;
  const line = new Float32Array(n);
  const lines = (D * H * W) / n;
  for (let l = 0; l < lines; l++) {
    // The l-th line along `axis`: enumerate the other two coordinates.
    let start: number;
    if (axis === 2) start = l * W;
    else if (axis === 1) start = Math.floor(l / W) * H * W + (l % W);
    else start = l;
    for (let i = 0; i < n; i++) line[i] = src[start + i * stride]!;
    for (let i = 0; i < n; i++) {
      let acc = 0;
      for (let k = -radius; k <= radius; k++) {
        const j = i + k < 0 ? 0 : i + k >= n ? n - 1 : i + k;
        acc += kernel[k + radius]! * line[j]!;
      }
      dst[start + i * stride] = acc;
    }
  }
}

/** Gaussian blur with a standard deviation per axis, in voxels (0 leaves that axis alone). */
export function gaussianBlur3d(data: Float32Array, shape: Shape3, sigma: Vec3 | number): Float32Array {
  const sigmas = typeof sigma === 'number' ? [sigma, sigma, sigma] : sigma;
  let current = Float32Array.from(data);
  let scratch = new Float32Array(data.length);
  for (let axis = 0; axis < 3; axis++) {
    if (!(sigmas[axis]! > 0) || shape[axis]! < 2) continue;
    convolveAxis(current, scratch, shape, axis, gaussianKernel(sigmas[axis]!));
    [current, scratch] = [scratch, current];
  }
  return current;
}
