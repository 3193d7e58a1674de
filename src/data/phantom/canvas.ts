// The phantom's drawing surface: a tissue label and a HU value per voxel, painted in millimetres.
// Shapes are visited only over their bounding box, so painting a small lesion costs a small loop.
import type { Shape3, Vec3 } from '../geometry/volume';

/** Tissue labels of the phantom (also the organs lesions are placed in). */
export const Tissue = {
  air: 0,
  skin: 1,
  fat: 2,
  muscle: 3,
  lung: 4,
  lungVessel: 5,
  heart: 6,
  liver: 7,
  kidney: 8,
  spleen: 9,
  cortical: 10,
  marrow: 11,
  viscera: 12,
  aorta: 13,
  mediastinum: 14,
} as const;
export type TissueLabel = (typeof Tissue)[keyof typeof Tissue];

/** A point in millimetres: z along D (superior), y along H (posterior), x along W (patient's left). */
export type Mm = Vec3;

export class Canvas {
  readonly labels: Uint8Array;
  readonly hu: Float32Array;

  constructor(
    readonly shape: Shape3,
    readonly spacing: Vec3,
  ) {
    const n = shape[0] * shape[1] * shape[2];
    this.labels = new Uint8Array(n);
    this.hu = new Float32Array(n).fill(-1000);
  }

  /** Physical extent along each axis (mm between the first and last voxel centre). */
  get extent(): Vec3 {
    return [0, 1, 2].map((a) => (this.shape[a]! - 1) * this.spacing[a]!) as Vec3;
  }

  /**
   * Calls fn for every voxel whose centre lies in the box [lo, hi] (mm), with its index and position.
   */
  forEachInBox(lo: Mm, hi: Mm, fn: (index: number, z: number, y: number, x: number) => void): void {
    const [D, H, W] = this.shape;
    const [sz, sy, sx] = this.spacing;
    const d0 = Math.max(0, Math.ceil(lo[0] / sz)), d1 = Math.min(D - 1, Math.floor(hi[0] / sz));
    const h0 = Math.max(0, Math.ceil(lo[1] / sy)), h1 = Math.min(H - 1, Math.floor(hi[1] / sy));
    const w0 = Math.max(0, Math.ceil(lo[2] / sx)), w1 = Math.min(W - 1, Math.floor(hi[2] / sx));
    for (let d = d0; d <= d1; d++) {
      for (let h = h0; h <= h1; h++) {
        let i = (d * H + h) * W + w0;
        for (let w = w0; w <= w1; w++, i++) fn(i, d * sz, h * sy, w * sx);
      }
    }
  }

  /**
   * Visits the voxels inside an ellipsoid with radii r (mm) along (z, y, x), turned by `angle` radians
   * in the axial plane; fn gets the normalised radius (0 at the centre, 1 on the surface).
   */
  forEachInEllipsoid(centre: Mm, r: Vec3, angle: number, fn: (index: number, rho: number, z: number, y: number, x: number) => void): void {
    const reach = Math.max(r[1], r[2]);
    const c = Math.cos(angle);
    const s = Math.sin(angle);
    this.forEachInBox(
      [centre[0] - r[0], centre[1] - reach, centre[2] - reach],
      [centre[0] + r[0], centre[1] + reach, centre[2] + reach],
      (i, z, y, x) => {
        const dz = (z - centre[0]) / r[0];
        const dy = y - centre[1];
        const dx = x - centre[2];
        const u = (c * dy - s * dx) / r[1];
        const v = (s * dy + c * dx) / r[2];
        const rho2 = dz * dz + u * u + v * v;
        if (rho2 <= 1) fn(i, Math.sqrt(rho2), z, y, x);
      },
    );
  }

  /** Visits voxels within `radius` of the segment a-b (a capsule); fn gets the distance to the axis. */
  forEachInCapsule(a: Mm, b: Mm, radius: number, fn: (index: number, distance: number) => void): void {
    const lo = [0, 1, 2].map((k) => Math.min(a[k]!, b[k]!) - radius) as Mm;
    const hi = [0, 1, 2].map((k) => Math.max(a[k]!, b[k]!) + radius) as Mm;
    const ab = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
    const len2 = ab[0]! * ab[0]! + ab[1]! * ab[1]! + ab[2]! * ab[2]! || 1;
    this.forEachInBox(lo, hi, (i, z, y, x) => {
      const t = Math.min(1, Math.max(0, ((z - a[0]) * ab[0]! + (y - a[1]) * ab[1]! + (x - a[2]) * ab[2]!) / len2));
      const dz = z - a[0] - t * ab[0]!;
      const dy = y - a[1] - t * ab[1]!;
      const dx = x - a[2] - t * ab[2]!;
      const dist = Math.sqrt(dz * dz + dy * dy + dx * dx);
      if (dist <= radius) fn(i, dist);
    });
  }

  set(index: number, label: TissueLabel, hu: number): void {
    this.labels[index] = label;
    this.hu[index] = hu;
  }
}
