// Launcher for reductions over any set of axes (sum with a scale, max, logsumexp). The output keeps the
// reduced axes with extent 1.
import source from '../../shaders/reduce.wgsl';
import type { Runtime } from '../gpu/runtime';
import { kernelSource } from '../gpu/shader';
import { uniforms } from '../gpu/uniforms';
import { collapseAxes } from './axes';
import { packShape8, MAX_RANK } from './elementwise';
import { ELEMENTWISE_WORKGROUP } from './fill';

export type ReduceOp = 'sum' | 'max' | 'logsumexp';

const codes: Record<ReduceOp, string> = {
  sum: kernelSource(source, {}),
  max: kernelSource(source, { MAX: true }),
  logsumexp: kernelSource(source, { LOGSUMEXP: true }),
};

/** Terms one invocation reduces when a reduction is split into chunks. */
const CHUNK = 256;
/** Outputs from which one invocation per output already gives the device enough parallel work. */
const PARALLEL_OUTPUTS = 16384;

/** Reduces `x` of `shape` over `axes` into `out`; `scale` multiplies sums (1/count gives a mean). */
export function reduce(runtime: Runtime, op: ReduceOp, x: GPUBuffer, shape: readonly number[], axes: readonly number[], out: GPUBuffer, scale = 1): void {
  if (shape.length > MAX_RANK) throw new RangeError(`reductions support rank up to ${MAX_RANK}, got ${shape.length}`);
  const reduced = new Set(axes);
  const strides: number[] = [];
  const outStrides: number[] = [];
  const reduceStrides: number[] = [];
  let s = 1;
  let so = 1;
  let sr = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
    outStrides[i] = reduced.has(i) ? 0 : so;
    reduceStrides[i] = reduced.has(i) ? sr : 0;
    if (reduced.has(i)) sr *= shape[i]!;
    else so *= shape[i]!;
  }
  // Axes merge only with neighbours of the same kind: the output and reduce-index strides see to that.
  const merged = collapseAxes(shape, [strides, outStrides, reduceStrides]);
  const [inStrides, keptStrides, foldStrides] = merged.strides as [number[], number[], number[]];
  const outShape = merged.shape.map((d, i) => (keptStrides[i] ? d : 1));
  const reduceShape = merged.shape.map((d, i) => (foldStrides[i] ? d : 1));
  const nOut = outShape.reduce((p, d) => p * d, 1);
  const nReduce = reduceShape.reduce((p, d) => p * d, 1);
  const reducedAxes = foldStrides.flatMap((f, i) => (f ? [i] : []));
  const reduceStride = reducedAxes.length === 1 ? inStrides[reducedAxes[0]!]! : 0;

  // Few outputs over many terms: partial results per chunk first, then a reduction of the partials.
  const chunks = nOut < PARALLEL_OUTPUTS && nReduce > 2 * CHUNK ? Math.ceil(nReduce / CHUNK) : 1;
  const target = chunks > 1 ? runtime.buffer(nOut * chunks * 4, `reduce_${op} partials`) : out;
  const u = uniforms().u32(nOut, nReduce, chunks, chunks > 1 ? CHUNK : nReduce).f32(chunks > 1 ? 1 : scale).u32(reduceStride);
  packShape8(u, outShape);
  packShape8(u, reduceShape);
  packShape8(u, inStrides);
  runtime.dispatch({
    kernel: `reduce_${op}`,
    source: codes[op],
    constants: { RANK: merged.shape.length },
    buffers: [x, target],
    uniforms: u.bytes(),
    workgroups: Math.ceil((nOut * chunks) / ELEMENTWISE_WORKGROUP),
  });
  if (chunks > 1) {
    reduce(runtime, op, target, [nOut, chunks], [1], out, scale);
    runtime.release(target);
  }
}
