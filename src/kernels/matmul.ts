// Launcher for the tiled batched matmul (shaders/matmul.wgsl): C[batch, M, N] = op(A) · op(B), where
// op is an optional transpose and each operand's batch axes broadcast to C's.
import source from '../../shaders/matmul.wgsl';
import type { Runtime } from '../gpu/runtime';
import { kernelSource } from '../gpu/shader';
import { uniforms } from '../gpu/uniforms';
import { MAX_RANK, packShape8 } from './elementwise';
import { reduce } from './reduce';

export type MatmulVariant = 'tiled' | 'blocked';
const codes: Record<MatmulVariant, string> = {
  tiled: kernelSource(source),
  blocked: kernelSource(source, { BLOCKED: true }),
};
let forcedVariant: MatmulVariant | null = null;

/**
 * By default software adapters get the barrier-free `blocked` kernel and GPUs the `tiled` one; tests
 * force each in turn so that both are checked on whatever adapter runs them (null restores the default).
 */
export function forceMatmulVariant(variant: MatmulVariant | null): void {
  forcedVariant = variant;
}
/** Output tile of one workgroup; must match TILE_M / TILE_N in the shader. */
export const MATMUL_TILE = 32;
/** K step of the shader's loop; split-K chunks are multiples of it. */
const TILE_K = 16;
/** Workgroups below which a long K is split (weight gradients: [k, 8192] x [8192, n] is one tile). */
const MIN_WORKGROUPS = 64;
/** The shortest K run a split is given: shorter ones cost more in the partial sums than they save. */
const MIN_SPLIT_K = 256;

/** How many runs to split K into so that the grid holds about MIN_WORKGROUPS workgroups. */
function splitsFor(tiles: number, k: number): number {
  if (tiles >= MIN_WORKGROUPS) return 1;
  return Math.max(1, Math.min(Math.ceil(MIN_WORKGROUPS / tiles), Math.floor(k / MIN_SPLIT_K)));
}

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
  if (m === 0 || n === 0) return;
  const wanted = splitsFor(grid[0] * grid[1] * batches, k);
  const kChunk = wanted > 1 ? Math.ceil(k / wanted / TILE_K) * TILE_K : k;
  const splits = wanted > 1 ? Math.ceil(k / kChunk) : 1;
  const target = splits > 1 ? runtime.buffer(batches * splits * m * n * 4, 'matmul split-K partials') : out;
  // (batch, split) pairs run along the grid's z axis, in as many dispatches as the per-dimension limit
  // requires.
  const zs = batches * splits;
  for (let first = 0; first < zs; first += max) {
    const count = Math.min(max, zs - first);
    const u = uniforms().u32(m, n, k, batchShape.length, a.rowStride, a.colStride, b.rowStride, b.colStride, first, splits, kChunk, 0);
    packShape8(u, batchShape);
    packShape8(u, a.batchStrides);
    packShape8(u, b.batchStrides);
    runtime.dispatch({
      kernel: 'matmul',
      source: codes[forcedVariant ?? (runtime.adapter.software ? 'blocked' : 'tiled')],
      buffers: [a.buffer, b.buffer, target],
      uniforms: u.bytes(),
      workgroups: [grid[0], grid[1], count],
    });
  }
  if (splits > 1) {
    reduce(runtime, 'sum', target, [batches, splits, m * n], [1], out);
    runtime.release(target);
  }
}
