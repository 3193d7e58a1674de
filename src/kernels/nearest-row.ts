// Launcher of the nearest-row search (shaders/nearest_row.wgsl): for each query row, the index of the
// nearest row of a bank, the search behind a knn density. Indices only: the distance itself is then
// taken with differentiable ops on the gathered row.
import skeleton from '../../shaders/nearest_row.wgsl';
import type { Runtime } from '../gpu/runtime';
import { fillSkeleton, kernelSource } from '../gpu/shader';
import { uniforms } from '../gpu/uniforms';

const WORKGROUP = 64;
/** The longest row the search takes (its query rows live in registers). */
export const NEAREST_ROW_MAX_COLS = 64;
/** vec4s of one bank tile in shared memory: TILE_VEC4S in the shader. */
const TILE_VEC4S = 512;
/**
 * Query rows one invocation searches for (ROWS in the shader): every bank value it reads from shared
 * memory then serves that many queries. On a software adapter the workgroups run a few at a time on
 * the CPU's cores, so a large block costs no parallelism and saves most of the shared-memory reads
 * (bench/RESULTS.md, "The nearest-row search"). A GPU needs the invocations: one row each, unmeasured.
 */
export function nearestRowsPerInvocation(software: boolean, vec4s: number): number {
  if (!software) return 1;
  return vec4s <= 8 ? 16 : 8;
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i);
const cache = new Map<string, string>();

/**
 * The kernel text for `rows` query rows per invocation of `vec4s` vec4s each, its register block written
 * out; `apart`: only bank rows farther than a distance from the query's position count (-1 when none).
 */
function nearestRowSource(rows: number, vec4s: number, apart: boolean): string {
  const key = `${rows}x${vec4s}${apart ? ' apart' : ''}`;
  let source = cache.get(key);
  if (!source) {
    const R = range(rows);
    const V = range(vec4s);
    const parts = {
      CONSTS: `const ROWS: u32 = ${rows}u;\nconst VEC4S: u32 = ${vec4s}u;`,
      QUERIES: R.map((r) =>
        [
          `  let query${r} = min(first + ${r}u, params.rows - 1u);`,
          `  let row${r} = query${r} * params.cols;`,
          ...V.map((v) => `  let q${r}_${v} = 2.0 * x4(row${r}, ${4 * v}u);`),
          ...(apart ? [`  let p${r} = vec3<f32>(x_position[3u * query${r}], x_position[3u * query${r} + 1u], x_position[3u * query${r} + 2u]);`] : []),
          `  var best${r} = 3.40282e38f;`,
          `  var index${r} = ${apart ? '-1i' : '0i'};`,
        ].join('\n'),
      ).join('\n'),
      SEARCH: [
        ...V.map((v) => `      let b${v} = tile[at + ${v}u];`),
        '      let norm = tile_norm[j];',
        ...R.map((r) =>
          [
            `      let s${r} = norm - (${V.map((v) => `dot(q${r}_${v}, b${v})`).join(' + ')});`,
            ...(apart
              ? [
                  `      let offset${r} = at_position - p${r};`,
                  // `&`, not `&&`: WGSL's && short-circuits, a branch per row pair that SwiftShader runs
                  // masked; it made this search 2.4 times slower than the plain one (bench nearest).
                  `      let better${r} = (s${r} < best${r}) & (dot(offset${r}, offset${r}) > params.min_distance2);`,
                ]
              : [`      let better${r} = s${r} < best${r};`]),
            `      best${r} = select(best${r}, s${r}, better${r});`,
            `      index${r} = select(index${r}, candidate, better${r});`,
          ].join('\n'),
        ),
      ].join('\n'),
      STORE: R.map((r) => `  if (first + ${r}u < params.rows) { out[first + ${r}u] = index${r}; }`).join('\n'),
    };
    source = kernelSource(fillSkeleton(skeleton, parts, 'nearest-row codegen'), { APART: apart });
    cache.set(key, source);
  }
  return source;
}

/** Positions of the query and bank rows ([rows, 3] and [bankRows, 3] f32) and the distance a bank row must exceed. */
export interface RowsApart {
  xPosition: GPUBuffer;
  bankPosition: GPUBuffer;
  minDistance: number;
}

/**
 * out[i] (i32) = argmin_j |x[i, :] - bank[j, :]|^2 for x [rows, cols] and bank [bankRows, cols], the
 * lowest j on a tie. cols may be at most NEAREST_ROW_MAX_COLS; bankRows at least 1. With `apart`, only
 * rows j whose position is farther than apart.minDistance from row i's count, and out[i] is -1 when no
 * row is. `rowsPerInvocation` overrides the register block (for benchmarks and tests).
 */
export function nearestRows(
  runtime: Runtime,
  x: GPUBuffer,
  rows: number,
  cols: number,
  bank: GPUBuffer,
  bankRows: number,
  out: GPUBuffer,
  rowsPerInvocation?: number,
  apart?: RowsApart,
): void {
  if (!(cols >= 1 && cols <= NEAREST_ROW_MAX_COLS)) throw new RangeError(`nearestRows: rows of 1 to ${NEAREST_ROW_MAX_COLS} values, got ${cols}`);
  if (bankRows < 1) throw new RangeError('nearestRows: the bank is empty');
  if (apart && !(apart.minDistance >= 0 && Number.isFinite(apart.minDistance))) throw new RangeError(`nearestRows: the distance apart must be finite and at least 0, got ${apart.minDistance}`);
  if (rows === 0) return;
  const vec4s = Math.ceil(cols / 4);
  const block = rowsPerInvocation ?? nearestRowsPerInvocation(runtime.adapter.software, vec4s);
  runtime.dispatch({
    kernel: apart ? 'nearest_row_apart' : 'nearest_row',
    source: nearestRowSource(block, vec4s, apart !== undefined),
    buffers: apart ? [x, bank, out, apart.xPosition, apart.bankPosition] : [x, bank, out],
    uniforms: uniforms()
      .u32(rows, cols, bankRows, Math.floor(TILE_VEC4S / vec4s))
      .f32(apart ? apart.minDistance ** 2 : 0)
      .bytes(),
    workgroups: Math.ceil(rows / (WORKGROUP * block)),
  });
}
