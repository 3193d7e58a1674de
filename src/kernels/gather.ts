// Launchers for row gathers, their deterministic scatter-add, and voxel coordinates to row indices
// (shaders/gather.wgsl). Index buffers hold i32; an index outside [0, rows) reads zeros and is
// dropped by the scatter.
import source from '../../shaders/gather.wgsl';
import type { Runtime } from '../gpu/runtime';
import { kernelSource } from '../gpu/shader';
import { uniforms } from '../gpu/uniforms';
import { ELEMENTWISE_WORKGROUP } from './fill';

const codes = {
  gather: kernelSource(source, { GATHER: true }),
  links: kernelSource(source, { SCATTER_LINKS: true }),
  sum: kernelSource(source, { SCATTER_SUM: true }),
  voxel: kernelSource(source, { VOXEL_INDEX: true }),
};

const groups = (n: number) => Math.ceil(n / ELEMENTWISE_WORKGROUP);

/** out[k, c] = x[indices[k], c] for x [rows, cols] and `count` indices. */
export function gatherRows(runtime: Runtime, x: GPUBuffer, rows: number, cols: number, indices: GPUBuffer, count: number, out: GPUBuffer): void {
  runtime.dispatch({
    kernel: 'gather_rows',
    source: codes.gather,
    buffers: [x, indices, out],
    uniforms: uniforms().u32(count * cols, rows, cols).bytes(),
    workgroups: groups(count * cols),
  });
}

/**
 * out[indices[k], c] += values[k, c] over `count` rows of `cols` values, duplicates summed in index
 * order. `out` [rows, cols] must already hold zeros (or what the sums add to: rows no index names are
 * left as they are, rows an index names are overwritten with the sum).
 */
export function scatterAddRows(runtime: Runtime, values: GPUBuffer, indices: GPUBuffer, count: number, rows: number, cols: number, out: GPUBuffer): void {
  if (count === 0) return;
  // O(count²) comparisons, independent of cols: fine for the ~10⁴ sampled voxels of a training step.
  const links = runtime.buffer(count * 2 * 4, 'scatter_links');
  runtime.dispatch({
    kernel: 'scatter_links',
    source: codes.links,
    buffers: [indices, links],
    uniforms: uniforms().u32(count).bytes(),
    workgroups: groups(count),
  });
  runtime.dispatch({
    kernel: 'scatter_sum',
    source: codes.sum,
    buffers: [indices, links, values, out],
    uniforms: uniforms().u32(count * cols, rows, cols, count).bytes(),
    workgroups: groups(count * cols),
  });
  runtime.release(links); // later users of the buffer run after these dispatches (pool.ts)
}

/** rows[k] = the row of voxel coords[k] = (n, d, h, w) in a [n, d, h, w, C] map, or -1 outside it. */
export function voxelRows(runtime: Runtime, coords: GPUBuffer, count: number, dims: readonly [number, number, number, number], rows: GPUBuffer): void {
  runtime.dispatch({
    kernel: 'voxel_rows',
    source: codes.voxel,
    buffers: [coords, rows],
    uniforms: uniforms().u32(count).i32(...dims).bytes(),
    workgroups: groups(count),
  });
}
