// A rotated ellipsoid in millimetres and its blend weight on a voxel grid.
//
// The weight is a sigmoid of the (approximate) signed distance to the surface, so the boundary ramps
// over `edgeMm` instead of stepping; on coarse grids (OpenKBP's 4-5 mm voxels are wider than the
// ramp) each boundary voxel averages the sigmoid over sub-voxel samples, which is the partial-volume
// effect a scanner gives a real boundary.
import type { Rng } from '../rng';
import type { Shape3, Vec3 } from '../geometry/volume';

export interface Ellipsoid {
  /** Centre in voxel coordinates (d, h, w). */
  centre: Vec3;
  /** Semi-axes in mm, along the rows of `axes`. */
  radiiMm: Vec3;
  /** Rotation: three orthonormal rows, the principal axes in the (D, H, W) millimetre frame. */
  axes: [Vec3, Vec3, Vec3];
  /** Width of the 10 %-90 % ramp of the boundary, in mm. */
  edgeMm: number;
}

/** A box of voxels: first voxel and size along (D, H, W). */
export interface VoxelBox {
  start: Shape3;
  size: Shape3;
}

/** Weights below this are set to 0, so a lesion changes only voxels near it (bit for bit elsewhere). */
export const WEIGHT_FLOOR = 1e-3;
const LOGIT_9 = Math.log(9);

/** A uniformly random rotation (Shoemake's method: a uniform unit quaternion). */
export function randomRotation(rng: Rng): [Vec3, Vec3, Vec3] {
  let q = [rng.normal(), rng.normal(), rng.normal(), rng.normal()];
  const norm = Math.hypot(...q) || 1;
  q = q.map((x) => x / norm);
  const [w, x, y, z] = q as [number, number, number, number];
  return [
    [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
    [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
    [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
  ];
}

/**
 * Semi-axes for a lesion whose volume-equivalent diameter is `diameterMm`: each axis varies by up to
 * `spread` (0.2 = ±20 %) about it, rescaled so the product (and so the volume) is exactly the sphere's.
 */
export function randomRadii(rng: Rng, diameterMm: number, spread: number): Vec3 {
  const f = [0, 1, 2].map(() => rng.uniform(1 - spread, 1 + spread));
  const geometricMean = Math.cbrt(f[0]! * f[1]! * f[2]!);
  return f.map((x) => (diameterMm / 2) * (x / geometricMean)) as Vec3;
}

/** The box of voxels the ellipsoid's weight can reach, or undefined when part of it lies beyond the grid. */
export function ellipsoidBox(e: Ellipsoid, shape: Shape3, spacing: Vec3): VoxelBox | undefined {
  const reachMm = Math.max(...e.radiiMm) + 2 * e.edgeMm;
  const start = [0, 0, 0] as Shape3;
  const size = [0, 0, 0] as Shape3;
  for (let a = 0; a < 3; a++) {
    const reach = Math.ceil(reachMm / spacing[a]!) + 1;
    const lo = Math.floor(e.centre[a]!) - reach;
    const hi = Math.ceil(e.centre[a]!) + reach;
    if (lo < 0 || hi >= shape[a]!) return undefined;
    start[a] = lo;
    size[a] = hi - lo + 1;
  }
  return { start, size };
}

/**
 * Blend weight in [0, 1] of every voxel of `box` (row-major over the box): 1 deep inside, 0.5 on the
 * surface, 0 outside (below WEIGHT_FLOOR), averaged over sub-voxel samples near the surface.
 */
export function blendWeights(e: Ellipsoid, spacing: Vec3, box: VoxelBox): Float32Array {
  const [bd, bh, bw] = box.size;
  const out = new Float32Array(bd * bh * bw);
  // Logistic scale: the sigmoid goes from 0.1 to 0.9 over edgeMm.
  const tau = e.edgeMm / (2 * LOGIT_9);
  const samples = spacing.map((s) => Math.min(4, Math.max(1, Math.ceil(s / e.edgeMm)))) as Vec3;
  const offsets = spacing.map((s, a) => Array.from({ length: samples[a]! }, (_, j) => ((j + 0.5) / samples[a]! - 0.5) * s));
  const perVoxel = samples[0] * samples[1] * samples[2];
  // Voxels whose centre is further than this from the surface are wholly inside or outside.
  const band = 1.5 * (0.5 * Math.hypot(...spacing) + 7 * tau);
  const weightAt = (x: number, y: number, z: number) => 1 / (1 + Math.exp(signedDistance(e, x, y, z) / tau));
  let i = 0;
  for (let d = 0; d < bd; d++) {
    const x = (box.start[0] + d - e.centre[0]) * spacing[0];
    for (let h = 0; h < bh; h++) {
      const y = (box.start[1] + h - e.centre[1]) * spacing[1];
      for (let w = 0; w < bw; w++, i++) {
        const z = (box.start[2] + w - e.centre[2]) * spacing[2];
        const centreDistance = signedDistance(e, x, y, z);
        let weight: number;
        if (centreDistance < -band) weight = 1;
        else if (centreDistance > band) weight = 0;
        else {
          let sum = 0;
          for (const ox of offsets[0]!) for (const oy of offsets[1]!) for (const oz of offsets[2]!) sum += weightAt(x + ox, y + oy, z + oz);
          weight = sum / perVoxel;
        }
        out[i] = weight < WEIGHT_FLOOR ? 0 : weight;
      }
    }
  }
  return out;
}

/**
 * Signed distance (mm, negative inside) from a point, given relative to the centre in the (D, H, W)
 * millimetre frame, to the ellipsoid's surface: the first-order estimate (rho - 1) / |grad rho| of the
 * normalised radius rho, exact for a sphere and close near the surface of any ellipsoid.
 */
export function signedDistance(e: Ellipsoid, x: number, y: number, z: number): number {
  let rho2 = 0;
  let grad2 = 0;
  for (let k = 0; k < 3; k++) {
    const axis = e.axes[k]!;
    const u = axis[0] * x + axis[1] * y + axis[2] * z;
    const r = e.radiiMm[k]!;
    rho2 += (u * u) / (r * r);
    grad2 += (u * u) / (r * r * r * r);
  }
  if (grad2 === 0) return -Math.min(...e.radiiMm);
  const rho = Math.sqrt(rho2);
  // grad rho = (u_k / r_k^2) / rho, so (rho - 1) / |grad rho| = (rho - 1) rho / sqrt(sum u_k^2 / r_k^4).
  return ((rho - 1) * rho) / Math.sqrt(grad2);
}
