// Resampling between voxel grids. A grid map says where each output voxel sits in input voxel
// coordinates (index_in = scale * index_out + offset, per axis); samples outside the input are clamped
// to its edge. Per-axis indices and weights are computed once, so the voxel loop does no divisions.
import { multiplyAffines, scaleShiftAffine, type Shape3, type Vec3, type Volume, type VoxelArray } from '../geometry/volume';

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

/**
 * Where resampling reads and writes: `box`, a part of the input array (its first voxel and shape) to
 * be treated as the whole input, so that a crop need not be copied out first; `slices`, the output
 * slices [from, to) to compute, so that a large output can be made a slab at a time.
 */
export interface ResampleRegion {
  box?: { start: Shape3; shape: Shape3 };
  slices?: [number, number];
}

interface AxisTable {
  lo: Int32Array;
  hi: Int32Array;
  t: Float32Array;
}

/** Per output index along one axis: the two input offsets and the weight (inputs clamped to [0, n - 1], then shifted by `start`). */
function linearAxis(n: number, m: number, scale: number, offset: number, stride: number, start = 0): AxisTable {
  const lo = new Int32Array(m);
  const hi = new Int32Array(m);
  const t = new Float32Array(m);
  for (let j = 0; j < m; j++) {
    const x = Math.min(Math.max(scale * j + offset, 0), n - 1);
    const i0 = Math.floor(x);
    const i1 = Math.min(i0 + 1, n - 1);
    lo[j] = (start + i0) * stride;
    hi[j] = (start + i1) * stride;
    t[j] = x - i0;
  }
  return { lo, hi, t };
}

function regionOf(shape: Shape3, outShape: Shape3, region: ResampleRegion): { start: Shape3; size: Shape3; from: number; to: number } {
  const [from, to] = region.slices ?? [0, outShape[0]];
  if (!(from >= 0 && to <= outShape[0] && from <= to)) throw new RangeError(`resample: slices ${from}..${to} outside 0..${outShape[0]}`);
  return { start: region.box?.start ?? [0, 0, 0], size: region.box?.shape ?? shape, from, to };
}

/**
 * Trilinear resampling of an image onto an output grid (see ResampleRegion for `region`); the result
 * holds the output slices asked for, row-major.
 */
export function resampleTrilinear(data: ArrayLike<number>, shape: Shape3, outShape: Shape3, map: GridMap, region: ResampleRegion = {}): Float32Array {
  const [, H, W] = shape;
  const { start, size, from, to } = regionOf(shape, outShape, region);
  const ad = linearAxis(size[0], outShape[0], map.scale[0], map.offset[0], H * W, start[0]);
  const ah = linearAxis(size[1], outShape[1], map.scale[1], map.offset[1], W, start[1]);
  const aw = linearAxis(size[2], outShape[2], map.scale[2], map.offset[2], 1, start[2]);
  const out = new Float32Array((to - from) * outShape[1] * outShape[2]);
  let o = 0;
  for (let d = from; d < to; d++) {
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

function nearestAxis(n: number, m: number, scale: number, offset: number, stride: number, start = 0): Int32Array {
  const index = new Int32Array(m);
  for (let j = 0; j < m; j++) index[j] = (start + Math.min(Math.max(Math.round(scale * j + offset), 0), n - 1)) * stride;
  return index;
}

/** Nearest-neighbour resampling (for masks and labels): output has the input's array type. */
export function resampleNearest<T extends VoxelArray>(data: T, shape: Shape3, outShape: Shape3, map: GridMap, region: ResampleRegion = {}): T {
  const [, H, W] = shape;
  const { start, size, from, to } = regionOf(shape, outShape, region);
  const id = nearestAxis(size[0], outShape[0], map.scale[0], map.offset[0], H * W, start[0]);
  const ih = nearestAxis(size[1], outShape[1], map.scale[1], map.offset[1], W, start[1]);
  const iw = nearestAxis(size[2], outShape[2], map.scale[2], map.offset[2], 1, start[2]);
  const out = new (data.constructor as new (n: number) => T)((to - from) * outShape[1] * outShape[2]);
  let o = 0;
  for (let d = from; d < to; d++) {
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
