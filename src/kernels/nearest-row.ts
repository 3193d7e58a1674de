// Launcher of the nearest-row search (shaders/nearest_row.wgsl): for each query row, the index of the
// nearest row of a bank, the search behind a knn density. Indices only: the distance itself is then
// taken with differentiable ops on the gathered row.
import source from '../../shaders/nearest_row.wgsl';
import type { Runtime } from '../gpu/runtime';
import { kernelSource } from '../gpu/shader';
import { uniforms } from '../gpu/uniforms';

const code = kernelSource(source);
const WORKGROUP = 64;
/** The longest row the search takes: 4 * MAX_VEC4S in the shader (a query row lives in registers). */
export const NEAREST_ROW_MAX_COLS = 64;
/** vec4s of one bank tile in shared memory: TILE_VEC4S in the shader. */
const TILE_VEC4S = 512;

/**
 * out[i] (i32) = argmin_j |x[i, :] - bank[j, :]|^2 for x [rows, cols] and bank [bankRows, cols], the
 * lowest j on a tie. cols may be at most NEAREST_ROW_MAX_COLS; bankRows at least 1.
 */
export function nearestRows(runtime: Runtime, x: GPUBuffer, rows: number, cols: number, bank: GPUBuffer, bankRows: number, out: GPUBuffer): void {
  if (!(cols >= 1 && cols <= NEAREST_ROW_MAX_COLS)) throw new RangeError(`nearestRows: rows of 1 to ${NEAREST_ROW_MAX_COLS} values, got ${cols}`);
  if (bankRows < 1) throw new RangeError('nearestRows: the bank is empty');
  if (rows === 0) return;
  const vec4s = Math.ceil(cols / 4);
  runtime.dispatch({
    kernel: 'nearest_row',
    source: code,
    buffers: [x, bank, out],
    constants: { VEC4S: vec4s },
    uniforms: uniforms().u32(rows, cols, bankRows, Math.floor(TILE_VEC4S / vec4s)).bytes(),
    workgroups: Math.ceil(rows / WORKGROUP),
  });
}
