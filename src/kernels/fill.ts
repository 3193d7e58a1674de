// fill: one value into the first n f32 elements of a buffer.
import source from '../../shaders/fill.wgsl';
import type { Runtime } from '../gpu/runtime';
import { kernelSource } from '../gpu/shader';
import { uniforms } from '../gpu/uniforms';

const code = kernelSource(source);
export const ELEMENTWISE_WORKGROUP = 64;

export function fill(runtime: Runtime, out: GPUBuffer, n: number, value: number): void {
  runtime.dispatch({
    kernel: 'fill',
    source: code,
    buffers: [out],
    uniforms: uniforms().u32(n).f32(value).bytes(),
    workgroups: Math.ceil(n / ELEMENTWISE_WORKGROUP),
  });
}
