// Launcher for strided copies (shaders/strided_copy.wgsl): a view of one buffer, given by an offset and
// per-axis strides in elements, copied into a view of the same shape in another buffer. Permute, slice,
// concat and pad are all this one kernel with different views.
import source from '../../shaders/strided_copy.wgsl';
import type { Runtime } from '../gpu/runtime';
import { kernelSource } from '../gpu/shader';
import { uniforms } from '../gpu/uniforms';
import { collapseAxes, inVec4s } from './axes';
import { MAX_RANK, packShape8 } from './elementwise';
import { ELEMENTWISE_WORKGROUP } from './fill';

const codes = { word: kernelSource(source), vec4: kernelSource(source, { VEC4: true }) };

/** A strided view of a buffer of 32-bit elements; offset and strides count elements, not bytes. */
export interface StridedView {
  buffer: GPUBuffer;
  offset: number;
  strides: readonly number[];
}

export function stridedCopy(runtime: Runtime, shape: readonly number[], src: StridedView, dst: StridedView): void {
  if (shape.length > MAX_RANK) throw new RangeError(`strided copies support rank up to ${MAX_RANK}, got ${shape.length}`);
  if (src.strides.length !== shape.length || dst.strides.length !== shape.length) {
    throw new RangeError(`stridedCopy: shape of rank ${shape.length} with ${src.strides.length} source and ${dst.strides.length} destination strides`);
  }
  const n = shape.reduce((p, d) => p * d, 1);
  if (n === 0) return;
  const merged = collapseAxes(shape, [src.strides, dst.strides]);
  // Four words at a time where both views allow it (concats and slices along 4k channels do).
  const vec4 = inVec4s(merged, [src.offset, dst.offset]);
  const view = vec4 ?? { ...merged, offsets: [src.offset, dst.offset] };
  const count = vec4 ? n / 4 : n;
  const u = uniforms().u32(count, view.offsets[0]!, view.offsets[1]!);
  packShape8(u, view.shape);
  packShape8(u, view.strides[0]!);
  packShape8(u, view.strides[1]!);
  runtime.dispatch({
    kernel: vec4 ? 'strided_copy (vec4)' : 'strided_copy',
    source: vec4 ? codes.vec4 : codes.word,
    constants: { RANK: view.shape.length },
    buffers: [src.buffer, dst.buffer],
    uniforms: u.bytes(),
    workgroups: Math.ceil(count / ELEMENTWISE_WORKGROUP),
  });
}
