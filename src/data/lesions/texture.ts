// A lesion's own texture: smooth, spatially correlated noise (white noise blurred by a Gaussian of the
// correlation length, per axis in voxels so it is isotropic in mm), scaled to a standard deviation in
// HU. It is added on top of the scan's own noise, which the lesion keeps, so the lesion differs from
// its surroundings in texture as well as in mean intensity.
import { gaussianBlur3d } from '../preprocess/filters';
import type { Rng } from '../rng';
import type { Vec3 } from '../geometry/volume';
import type { VoxelBox } from './ellipsoid';

/**
 * Zero-mean noise over `box` with standard deviation 1 over the voxels where `weights` > 0, correlated
 * over about `correlationMm`.
 */
export function correlatedNoise(rng: Rng, box: VoxelBox, spacing: Vec3, correlationMm: number, weights: Float32Array): Float32Array {
  const n = box.size[0] * box.size[1] * box.size[2];
  const white = new Float32Array(n);
  for (let i = 0; i < n; i++) white[i] = rng.normal();
  const sigma = spacing.map((s) => correlationMm / s) as Vec3;
  const noise = gaussianBlur3d(white, box.size, sigma);
  // Normalise where the lesion is, so the stated standard deviation is the one inside it.
  let count = 0;
  let sum = 0;
  for (let i = 0; i < n; i++) if (weights[i]! > 0) (count++, (sum += noise[i]!));
  const mean = count ? sum / count : 0;
  let squares = 0;
  for (let i = 0; i < n; i++) if (weights[i]! > 0) squares += (noise[i]! - mean) ** 2;
  const std = count > 1 ? Math.sqrt(squares / count) : 0;
  for (let i = 0; i < n; i++) noise[i] = std > 0 ? (noise[i]! - mean) / std : 0;
  return noise;
}
