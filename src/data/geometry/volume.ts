// A 3-D scan or map on a voxel grid, placed in the world by its affine, and the small helpers
// everything else shares.
//
// Axis convention (fixed here, once, for the whole project):
//   the spatial order is (D, H, W) = (slice, row, column), row-major, W fastest;
//   a NIfTI file's voxel axes (i, j, k) map onto it as D = k, H = j, W = i.
// Because NIfTI stores i fastest, a file's voxel array is already a row-major [D, H, W] array;
// only the affine's columns are reordered (swapFirstAndThirdAxes).
//
// Voxel-to-world affines are 4x4 matrices in gl-matrix's column-major layout, held in Float64Array so
// that world offsets of hundreds of millimetres keep sub-micrometre precision.
import { mat4 } from 'gl-matrix';

export type Vec3 = [number, number, number];
/** Grid shape [D, H, W] in voxels. */
export type Shape3 = [number, number, number];

export type VoxelArray = Int8Array | Uint8Array | Int16Array | Uint16Array | Int32Array | Float32Array | Float64Array;

export type Affine = Float64Array;

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

// ---- affines ----------------------------------------------------------------------------------

export function identityAffine(): Affine {
  return mat4.identity(new Float64Array(16)) as Affine;
}

/** Builds an affine from its rows, the way it is written on paper and in NIfTI's srow_x/y/z. */
export function affineFromRows(rows: readonly (readonly number[])[]): Affine {
  const out = identityAffine();
  for (let r = 0; r < 3; r++) for (let c = 0; c < 4; c++) out[c * 4 + r] = rows[r]![c]!;
  return out;
}

/** Element (row, column). */
export function affineAt(a: Affine, row: number, col: number): number {
  return a[col * 4 + row]!;
}

export function affineRows(a: Affine): number[][] {
  return [0, 1, 2, 3].map((r) => [0, 1, 2, 3].map((c) => affineAt(a, r, c)));
}

export function multiplyAffines(a: Affine, b: Affine): Affine {
  return mat4.multiply(new Float64Array(16), a, b) as Affine;
}

export function invertAffine(a: Affine): Affine {
  const out = mat4.invert(new Float64Array(16), a);
  if (!out) throw new Error('affine is singular');
  return out as Affine;
}

/** Maps a point through the affine. */
export function applyAffine(a: Affine, p: readonly number[]): Vec3 {
  const [x, y, z] = p as [number, number, number];
  return [
    a[0]! * x + a[4]! * y + a[8]! * z + a[12]!,
    a[1]! * x + a[5]! * y + a[9]! * z + a[13]!,
    a[2]! * x + a[6]! * y + a[10]! * z + a[14]!,
  ];
}

/** Lengths of the first three columns: the voxel size along each voxel axis. */
export function affineSpacing(a: Affine): Vec3 {
  const col = (c: number) => Math.hypot(a[c * 4]!, a[c * 4 + 1]!, a[c * 4 + 2]!);
  return [col(0), col(1), col(2)];
}

/**
 * Swaps the first and third voxel axes: turns a file's (i, j, k) affine into the (D, H, W) = (k, j, i)
 * affine and back (the permutation is its own inverse).
 */
export function swapFirstAndThirdAxes(a: Affine): Affine {
  const out = new Float64Array(a) as Affine;
  for (let r = 0; r < 4; r++) {
    out[0 * 4 + r] = a[2 * 4 + r]!;
    out[2 * 4 + r] = a[0 * 4 + r]!;
  }
  return out;
}

/** An affine that scales each voxel axis and then shifts, in voxel units: index' = scale * index + offset. */
export function scaleShiftAffine(scale: readonly number[], offset: readonly number[]): Affine {
  const out = identityAffine();
  for (let i = 0; i < 3; i++) {
    out[i * 4 + i] = scale[i]!;
    out[12 + i] = offset[i]!;
  }
  return out;
}

/**
 * Orientation code of an affine's voxel axes, one letter per axis in the affine's own column order:
 * the world direction (RAS+ world: +x Right, +y Anterior, +z Superior) each voxel axis points to.
 * Each voxel axis takes the world axis it is closest to, largest components first, so an oblique scan
 * still gets three distinct letters.
 */
export function orientationCode(a: Affine): string {
  const positive = ['R', 'A', 'S'];
  const negative = ['L', 'P', 'I'];
  const candidates: { col: number; row: number; value: number }[] = [];
  for (let col = 0; col < 3; col++) {
    for (let row = 0; row < 3; row++) candidates.push({ col, row, value: affineAt(a, row, col) });
  }
  candidates.sort((x, y) => Math.abs(y.value) - Math.abs(x.value));
  const letters: string[] = ['?', '?', '?'];
  const usedRows = new Set<number>();
  for (const { col, row, value } of candidates) {
    if (letters[col] !== '?' || usedRows.has(row) || value === 0) continue;
    letters[col] = value > 0 ? positive[row]! : negative[row]!;
    usedRows.add(row);
  }
  return letters.join('');
}
