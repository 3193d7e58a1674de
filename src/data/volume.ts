// A 3-D scan or map on a voxel grid, and the small helpers everything else shares.
//
// Axis convention (fixed here, once, for the whole project):
//   the spatial order is (D, H, W) = (slice, row, column), row-major, W fastest;
//   a NIfTI file's voxel axes (i, j, k) map onto it as D = k, H = j, W = i.
// Because NIfTI stores i fastest, a file's voxel array is already a row-major [D, H, W] array;
// only the affine's columns are reordered (see affine.ts).
import type { Affine } from './affine';

export type Vec3 = [number, number, number];
/** Grid shape [D, H, W] in voxels. */
export type Shape3 = [number, number, number];

export type VoxelArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Float32Array | Float64Array;

export interface Volume<T extends VoxelArray = Float32Array> {
  /** Voxel values, row-major [D, H, W]. */
  data: T;
  shape: Shape3;
  /** Voxel size along (D, H, W) in mm: the lengths of the affine's first three columns. */
  spacing: Vec3;
  /** Maps (d, h, w, 1) voxel indices to world millimetres (NIfTI RAS+ world). */
  affine: Affine;
}

export function voxelCount(shape: Shape3): number {
  return shape[0] * shape[1] * shape[2];
}

export function sameShape(a: Shape3, b: Shape3): boolean {
  return a[0] === b[0] && a[1] === b[1] && a[2] === b[2];
}

export function formatShape(shape: readonly number[]): string {
  return shape.join('x');
}

/** Minimum and maximum of an array, skipping nothing (callers reject non-finite data first). */
export function valueRange(data: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  return [lo, hi];
}

/** Copies any voxel array into a Float32Array (the working type of the pipeline). */
export function toFloat32(data: VoxelArray): Float32Array {
  return data instanceof Float32Array ? data : Float32Array.from(data);
}
