// NIfTI's quaternion form of an affine (qform), both ways, after nifti1_io.c's
// nifti_quatern_to_mat44 and nifti_mat44_to_quatern. Affines here are in file (i, j, k) order.
import { affineAt, affineFromRows, type Affine } from '../geometry/volume';

export interface Quatern {
  b: number;
  c: number;
  d: number;
  offset: [number, number, number];
  /** Voxel sizes along i, j, k (pixdim[1..3]). */
  spacing: [number, number, number];
  /** +1 for a right-handed voxel grid, -1 for a left-handed one (pixdim[0]). */
  qfac: number;
}

export function quaternToAffine(q: Quatern): Affine {
  let { b, c, d } = q;
  let a = 1 - (b * b + c * c + d * d);
  if (a < 1e-7) {
    // The quaternion is not quite unit length: renormalise and take a 180-degree rotation.
    const norm = 1 / Math.sqrt(b * b + c * c + d * d);
    b *= norm;
    c *= norm;
    d *= norm;
    a = 0;
  } else {
    a = Math.sqrt(a);
  }
  const xd = q.spacing[0] > 0 ? q.spacing[0] : 1;
  const yd = q.spacing[1] > 0 ? q.spacing[1] : 1;
  let zd = q.spacing[2] > 0 ? q.spacing[2] : 1;
  if (q.qfac < 0) zd = -zd;
  return affineFromRows([
    [(a * a + b * b - c * c - d * d) * xd, 2 * (b * c - a * d) * yd, 2 * (b * d + a * c) * zd, q.offset[0]],
    [2 * (b * c + a * d) * xd, (a * a + c * c - b * b - d * d) * yd, 2 * (c * d - a * b) * zd, q.offset[1]],
    [2 * (b * d - a * c) * xd, 2 * (c * d + a * b) * yd, (a * a + d * d - c * c - b * b) * zd, q.offset[2]],
  ]);
}

/**
 * The nearest qform of an affine. Exact for rotations with scaling; a sheared affine loses its shear
 * here (the sform keeps it). Callers reject zero-length columns first.
 */
export function affineToQuatern(affine: Affine): Quatern {
  const m = (r: number, c: number) => affineAt(affine, r, c);
  const cols: number[][] = [0, 1, 2].map((c) => [m(0, c), m(1, c), m(2, c)]);
  const spacing = cols.map((col) => Math.hypot(col[0]!, col[1]!, col[2]!)) as [number, number, number];
  // Normalise and orthogonalise the columns (Gram-Schmidt) so the rotation is a true rotation.
  const unit = cols.map((col, i) => {
    const n = spacing[i]! || 1;
    return col.map((v) => v / n);
  });
  const dot = (x: number[], y: number[]) => x[0]! * y[0]! + x[1]! * y[1]! + x[2]! * y[2]!;
  const normalise = (x: number[]) => {
    const n = Math.hypot(x[0]!, x[1]!, x[2]!) || 1;
    return x.map((v) => v / n);
  };
  const u0 = normalise(unit[0]!);
  const u1 = normalise(unit[1]!.map((v, r) => v - dot(unit[1]!, u0) * u0[r]!));
  let u2 = unit[2]!.map((v, r) => v - dot(unit[2]!, u0) * u0[r]! - dot(unit[2]!, u1) * u1[r]!);
  u2 = normalise(u2);
  const det =
    u0[0]! * (u1[1]! * u2[2]! - u1[2]! * u2[1]!) -
    u1[0]! * (u0[1]! * u2[2]! - u0[2]! * u2[1]!) +
    u2[0]! * (u0[1]! * u1[2]! - u0[2]! * u1[1]!);
  const qfac = det > 0 ? 1 : -1;
  if (qfac < 0) u2 = u2.map((v) => -v);
  const r11 = u0[0]!, r21 = u0[1]!, r31 = u0[2]!;
  const r12 = u1[0]!, r22 = u1[1]!, r32 = u1[2]!;
  const r13 = u2[0]!, r23 = u2[1]!, r33 = u2[2]!;
  let a = r11 + r22 + r33 + 1;
  let b: number, c: number, d: number;
  if (a > 0.5) {
    a = 0.5 * Math.sqrt(a);
    b = (0.25 * (r32 - r23)) / a;
    c = (0.25 * (r13 - r31)) / a;
    d = (0.25 * (r21 - r12)) / a;
  } else {
    const xd = 1 + r11 - (r22 + r33);
    const yd = 1 + r22 - (r11 + r33);
    const zd = 1 + r33 - (r11 + r22);
    if (xd > 1) {
      b = 0.5 * Math.sqrt(xd);
      c = (0.25 * (r12 + r21)) / b;
      d = (0.25 * (r13 + r31)) / b;
      a = (0.25 * (r32 - r23)) / b;
    } else if (yd > 1) {
      c = 0.5 * Math.sqrt(yd);
      b = (0.25 * (r12 + r21)) / c;
      d = (0.25 * (r23 + r32)) / c;
      a = (0.25 * (r13 - r31)) / c;
    } else {
      d = 0.5 * Math.sqrt(zd);
      b = (0.25 * (r13 + r31)) / d;
      c = (0.25 * (r23 + r32)) / d;
      a = (0.25 * (r21 - r12)) / d;
    }
    if (a < 0) {
      b = -b;
      c = -c;
      d = -d;
    }
  }
  return { b, c, d, offset: [m(0, 3), m(1, 3), m(2, 3)], spacing, qfac };
}
