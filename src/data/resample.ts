// Resampling between voxel grids. A grid map says where each output voxel sits in input voxel
// coordinates (index_in = scale * index_out + offset, per axis); samples outside the input are clamped
// to its edge. Per-axis indices and weights are computed once, so the voxel loop does no divisions.
import { multiplyAffines, scaleShiftAffine } from './affine';
import { voxelCount, type Shape3, type Vec3, type Volume, type VoxelArray } from './volume';

export interface GridMap {
  scale: Vec3;
  offset: Vec3;
}

/**
 * The map between a grid of n voxels and one of m voxels covering the same extent (voxel edges
 * aligned: centre of output voxel j is at input coordinate (j + 0.5) * n / m - 0.5).
 */
export function sameExtentMap(inShape: Shape3, outShape: Shape3): GridMap {
  const scale = [0, 1, 2].map((a) => inShape[a]! / outShape[a]!) as Vec3;
  return { scale, offset: scale.map((s) => 0.5 * s - 0.5) as Vec3 };
}

/** The output shape that gives about `target` mm voxels over the input's extent (at least one voxel). */
export function shapeForSpacing(shape: Shape3, spacing: Vec3, target: Vec3): Shape3 {
  return [0, 1, 2].map((a) => Math.max(1, Math.round((shape[a]! * spacing[a]!) / target[a]!))) as Shape3;
}

interface AxisTable {
  lo: Int32Array;
  hi: Int32Array;
  t: Float32Array;
}

function linearAxis(n: number, m: number, scale: number, offset: number, stride: number): AxisTable {
  const lo = new Int32Array(m);
  const hi = new Int32Array(m);
  const t = new Float32Array(m);
  for (let j = 0; j < m; j++) {
    const x = Math.min(Math.max(scale * j + offset, 0), n - 1);
    const i0 = Math.floor(x);
    const i1 = Math.min(i0 + 1, n - 1);
    lo[j] = i0 * stride;
    hi[j] = i1 * stride;
    t[j] = x - i0;
  }
  return { lo, hi, t };
}

/** Trilinear resampling of an image onto an output grid. */
export function resampleTrilinear(data: ArrayLike<number>, shape: Shape3, outShape: Shape3, map: GridMap): Float32Array {
  const [D, H, W] = shape;
  const ad = linearAxis(D, outShape[0], map.scale[0], map.offset[0], H * W);
  const ah = linearAxis(H, outShape[1], map.scale[1], map.offset[1], W);
  const aw = linearAxis(W, outShape[2], map.scale[2], map.offset[2], 1);
  const out = new Float32Array(voxelCount(outShape));
  let o = 0;
  for (let d = 0; d < outShape[0]; d++) {
    const d0 = ad.lo[d]!, d1 = ad.hi[d]!, td = ad.t[d]!;
    for (let h = 0; h < outShape[1]; h++) {
      const h0 = ah.lo[h]!, h1 = ah.hi[h]!, th = ah.t[h]!;
      const r00 = d0 + h0, r01 = d0 + h1, r10 = d1 + h0, r11 = d1 + h1;
      for (let w = 0; w < outShape[2]; w++) {
        const w0 = aw.lo[w]!, w1 = aw.hi[w]!, tw = aw.t[w]!;
        const c00 = data[r00 + w0]! + (data[r00 + w1]! - data[r00 + w0]!) * tw;
        const c01 = data[r01 + w0]! + (data[r01 + w1]! - data[r01 + w0]!) * tw;
        const c10 = data[r10 + w0]! + (data[r10 + w1]! - data[r10 + w0]!) * tw;
        const c11 = data[r11 + w0]! + (data[r11 + w1]! - data[r11 + w0]!) * tw;
        const c0 = c00 + (c01 - c00) * th;
        const c1 = c10 + (c11 - c10) * th;
        out[o++] = c0 + (c1 - c0) * td;
      }
    }
  }
  return out;
}

function nearestAxis(n: number, m: number, scale: number, offset: number, stride: number): Int32Array {
  const index = new Int32Array(m);
  for (let j = 0; j < m; j++) index[j] = Math.min(Math.max(Math.round(scale * j + offset), 0), n - 1) * stride;
  return index;
}

/** Nearest-neighbour resampling (for masks and labels): output has the input's array type. */
export function resampleNearest<T extends VoxelArray>(data: T, shape: Shape3, outShape: Shape3, map: GridMap): T {
  const [, H, W] = shape;
  const id = nearestAxis(shape[0], outShape[0], map.scale[0], map.offset[0], H * W);
  const ih = nearestAxis(H, outShape[1], map.scale[1], map.offset[1], W);
  const iw = nearestAxis(W, outShape[2], map.scale[2], map.offset[2], 1);
  const out = new (data.constructor as new (n: number) => T)(voxelCount(outShape));
  let o = 0;
  for (let d = 0; d < outShape[0]; d++) {
    for (let h = 0; h < outShape[1]; h++) {
      const row = id[d]! + ih[h]!;
      for (let w = 0; w < outShape[2]; w++) out[o++] = data[row + iw[w]!]!;
    }
  }
  return out;
}

/** The affine of an output grid, given the input affine and the grid map. */
export function mappedAffine(volume: Pick<Volume<VoxelArray>, 'affine'>, map: GridMap): Float64Array {
  return multiplyAffines(volume.affine, scaleShiftAffine(map.scale, map.offset));
}

function resampledGeometry(volume: Volume<VoxelArray>, target: Vec3) {
  const shape = shapeForSpacing(volume.shape, volume.spacing, target);
  const map = sameExtentMap(volume.shape, shape);
  const spacing = volume.spacing.map((s, a) => s * map.scale[a]!) as Vec3;
  return { shape, map, spacing, affine: mappedAffine(volume, map) };
}

/** Resamples an image trilinearly to about the target spacing, keeping its extent. */
export function resampleImage(volume: Volume<VoxelArray>, target: Vec3): Volume<Float32Array> {
  const { shape, map, spacing, affine } = resampledGeometry(volume, target);
  return { data: resampleTrilinear(volume.data, volume.shape, shape, map), shape, spacing, affine };
}

/** Resamples a mask or label map by nearest neighbour to about the target spacing. */
export function resampleMask<T extends VoxelArray>(volume: Volume<T>, target: Vec3): Volume<T> {
  const { shape, map, spacing, affine } = resampledGeometry(volume, target);
  return { data: resampleNearest(volume.data, volume.shape, shape, map), shape, spacing, affine };
}
