// Exact Euclidean distance transform on an anisotropic grid (Felzenszwalb and Huttenlocher's lower
// envelope of parabolas, one pass per axis), in millimetres. Used to find where a lesion of a given
// size fits: a voxel's distance to the nearest excluded voxel bounds the radius of a ball around it.
import { voxelCount, type Shape3, type Vec3 } from '../geometry/volume';

/**
 * For every voxel, the distance in mm from its centre to the centre of the nearest voxel where `sites`
 * is set. With `outsideIsSite`, everything beyond the grid counts as set too (the distance is then at
 * most the distance to the grid's edge), so a ball of that radius stays inside the grid.
 * Voxels with no site anywhere get Infinity.
 */
export function distanceTransformMm(sites: ArrayLike<number>, shape: Shape3, spacing: Vec3, outsideIsSite = false): Float32Array {
  const n = voxelCount(shape);
  if (sites.length !== n) throw new RangeError(`distanceTransformMm: ${sites.length} voxels, shape ${shape.join('x')} has ${n}`);
  // Squared distances, refined one axis at a time: after the pass over axis a, f holds the squared
  // distance to the nearest site reachable by moving along the axes processed so far.
  const f = new Float64Array(n);
  for (let i = 0; i < n; i++) f[i] = sites[i] ? 0 : Infinity;
  const longest = Math.max(...shape);
  const line = new Float64Array(longest);
  const out = new Float64Array(longest);
  const v = new Int32Array(longest);
  const z = new Float64Array(longest + 1);
  const [, H, W] = shape;
  for (let axis = 0; axis < 3; axis++) {
    const len = shape[axis]!;
    const stride = axis === 0 ? H * W : axis === 1 ? W : 1;
    const step = spacing[axis]!;
    const lines = n / len;
    for (let l = 0; l < lines; l++) {
      let start: number;
      if (axis === 2) start = l * W;
      else if (axis === 1) start = Math.floor(l / W) * H * W + (l % W);
      else start = l;
      for (let i = 0; i < len; i++) line[i] = f[start + i * stride]!;
      envelope(line, len, step, out, v, z);
      for (let i = 0; i < len; i++) {
        let value = out[i]!;
        if (outsideIsSite) {
          // The planes just beyond either end of the grid along this axis: their nearest point is
          // straight along the axis, so adding them in this pass alone is exact.
          const before = (i + 1) * step;
          const after = (len - i) * step;
          value = Math.min(value, before * before, after * after);
        }
        f[start + i * stride] = value;
      }
    }
  }
  const result = new Float32Array(n);
  for (let i = 0; i < n; i++) result[i] = Math.sqrt(f[i]!);
  return result;
}

/** 1-D squared distance transform of sampled function `f` at positions i * step (sites with f = Infinity are skipped). */
function envelope(f: Float64Array, n: number, step: number, out: Float64Array, v: Int32Array, z: Float64Array): void {
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = f[q]!;
    if (fq === Infinity) continue;
    const pq = q * step;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    let s: number;
    for (;;) {
      const p = v[k]!;
      const pp = p * step;
      s = (fq + pq * pq - (f[p]! + pp * pp)) / (2 * (pq - pp));
      if (k > 0 && s <= z[k]!) k--;
      else break;
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  if (k < 0) {
    out.fill(Infinity, 0, n);
    return;
  }
  let j = 0;
  for (let q = 0; q < n; q++) {
    const pq = q * step;
    while (z[j + 1]! < pq) j++;
    const d = pq - v[j]! * step;
    out[q] = d * d + f[v[j]!]!;
  }
}
