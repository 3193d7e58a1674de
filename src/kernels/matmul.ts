// Launcher for the tiled batched matmul (shaders/matmul.wgsl): C[batch, M, N] = op(A) · op(B), where
// op is an optional transpose and each operand's batch axes broadcast to C's.
import source from '../../shaders/matmul.wgsl';
import type { Runtime } from '../gpu/runtime';
import { kernelSource } from '../gpu/shader';
import { uniforms } from '../gpu/uniforms';
import { MAX_RANK, packShape8 } from './elementwise';

const code = kernelSource(source);
/** Output tile of one workgroup; must match TILE_M / TILE_N in the shader. */
export const MATMUL_TILE = 32;

export interface MatmulOperand {
  buffer: GPUBuffer;
  /** Strides of element (row, col) of op(X): (m, k) for A, (k, n) for B. */
  rowStride: number;
  colStride: number;
  /** Strides over the output's batch axes, 0 where this operand is broadcast. */
  batchStrides: readonly number[];
}

export function matmul(
  runtime: Runtime,
  batchShape: readonly number[],
  m: number,
  k: number,
  n: number,
  a: MatmulOperand,
  b: MatmulOperand,
  out: GPUBuffer,
): void {
  if (batchShape.length > MAX_RANK) throw new RangeError(`matmul supports up to ${MAX_RANK} batch axes, got ${batchShape.length}`);
  const batches = batchShape.reduce((p, d) => p * d, 1);
  const max = runtime.limits.maxComputeWorkgroupsPerDimension;
  const grid: [number, number] = [Math.ceil(n / MATMUL_TILE), Math.ceil(m / MATMUL_TILE)];
  if (grid[0] > max || grid[1] > max) {
    throw new RangeError(`matmul: [${m}, ${k}] x [${k}, ${n}] needs a grid of ${grid.join(' x ')} tiles, over the device's ${max} per dimension`);
  }
  // Batches run along the grid's z axis, in as many dispatches as the per-dimension limit requires.
  for (let first = 0; first < batches; first += max) {
    const count = Math.min(max, batches - first);
    const u = uniforms().u32(m, n, k, batchShape.length, a.rowStride, a.colStride, b.rowStride, b.colStride, first, 0, 0, 0);
    packShape8(u, batchShape);
    packShape8(u, a.batchStrides);
    packShape8(u, b.batchStrides);
    runtime.dispatch({
      kernel: 'matmul',
      source: code,
      buffers: [a.buffer, b.buffer, out],
      uniforms: u.bytes(),
      workgroups: [grid[0], grid[1], count],
    });
  }
}
