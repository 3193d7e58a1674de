// Launcher for reductions over any set of axes (sum with a scale, max, logsumexp). The output keeps the
// reduced axes with extent 1.
import source from '../../shaders/reduce.wgsl';
import type { Runtime } from '../gpu/runtime';
import { kernelSource } from '../gpu/shader';
import { uniforms } from '../gpu/uniforms';
import { packShape8, MAX_RANK } from './elementwise';
import { ELEMENTWISE_WORKGROUP } from './fill';

export type ReduceOp = 'sum' | 'max' | 'logsumexp';

const codes: Record<ReduceOp, string> = {
  sum: kernelSource(source, {}),
  max: kernelSource(source, { MAX: true }),
  logsumexp: kernelSource(source, { LOGSUMEXP: true }),
};

/** Reduces `x` of `shape` over `axes` into `out`; `scale` multiplies sums (1/count gives a mean). */
export function reduce(runtime: Runtime, op: ReduceOp, x: GPUBuffer, shape: readonly number[], axes: readonly number[], out: GPUBuffer, scale = 1): void {
  if (shape.length > MAX_RANK) throw new RangeError(`reductions support rank up to ${MAX_RANK}, got ${shape.length}`);
  const reduced = new Set(axes);
  const outShape = shape.map((d, i) => (reduced.has(i) ? 1 : d));
  const reduceShape = shape.map((d, i) => (reduced.has(i) ? d : 1));
  const strides: number[] = [];
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  const nOut = outShape.reduce((p, d) => p * d, 1);
  const nReduce = reduceShape.reduce((p, d) => p * d, 1);
  const u = uniforms().u32(nOut, nReduce, shape.length).f32(scale);
  packShape8(u, outShape);
  packShape8(u, reduceShape);
  packShape8(u, strides);
  runtime.dispatch({
    kernel: `reduce_${op}`,
    source: codes[op],
    buffers: [x, out],
    uniforms: u.bytes(),
    workgroups: Math.ceil(nOut / ELEMENTWISE_WORKGROUP),
  });
}
