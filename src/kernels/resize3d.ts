// Launchers for resizing channels-last volumes: trilinear (align_corners=False) to any size, nearest
// upsampling by integer factors, and their gradients (gather form, no atomics).
import resizeKernel from '../../shaders/resize3d.wgsl';
import volumeIndex from '../../shaders/shared/volume_index.wgsl';
import type { Runtime } from '../gpu/runtime';
import { kernelSource } from '../gpu/shader';
import { uniforms } from '../gpu/uniforms';
import type { Triple } from './conv3d';

/** The kernel with the volume addressing it calls. */
const source = `${volumeIndex}\n${resizeKernel}`;

export interface Resize3dGeometry {
  batch: number;
  channels: number;
  input: Triple;
  output: Triple;
}

export type ResizeKernel = 'trilinear' | 'trilinear_grad' | 'nearest' | 'nearest_grad';

const WORKGROUP = 64;
const kernelDefines: Record<ResizeKernel, Record<string, boolean>> = {
  trilinear: {},
  trilinear_grad: { TRILINEAR_GRAD: true },
  nearest: { NEAREST: true },
  nearest_grad: { NEAREST_GRAD: true },
};
/** Each kernel's text, per element kind: one channel, or four neighbouring channels as a vec4 (VEC4). */
const codes = new Map<string, string>();
function codeOf(kernel: ResizeKernel, vec4: boolean): string {
  const key = `${kernel}${vec4 ? ' vec4' : ''}`;
  let code = codes.get(key);
  if (code === undefined) {
    code = kernelSource(source, { ...kernelDefines[kernel], VEC4: vec4 });
    codes.set(key, code);
  }
  return code;
}

/**
 * Runs one resize kernel. Forward kernels read the input and write the output; the _grad kernels read
 * the output's gradient and write the input's. Nearest kernels need output = input * an integer factor.
 */
export function resize3d(runtime: Runtime, kernel: ResizeKernel, g: Resize3dGeometry, src: GPUBuffer, dst: GPUBuffer): void {
  const grad = kernel.endsWith('_grad');
  if (kernel === 'trilinear_grad' && g.output.some((e, i) => e > 8 * g.input[i]!)) {
    // The gradient kernel lists each input's readers in fixed-size arrays (MAX_READERS in the shader).
    throw new RangeError(`trilinear resize: the gradient supports upsampling by at most 8x per axis, got ${g.input.join('x')} -> ${g.output.join('x')}`);
  }
  // Channels go four at a time when they can: the kernel then addresses vec4 elements.
  const vec4 = g.channels % 4 === 0;
  const elements = vec4 ? g.channels / 4 : g.channels;
  const extent = grad ? g.input : g.output;
  const total = g.batch * extent[0] * extent[1] * extent[2] * elements;
  runtime.dispatch({
    kernel: `resize3d_${kernel}${vec4 ? ' (vec4)' : ''}`,
    source: codeOf(kernel, vec4),
    buffers: [src, dst],
    uniforms: uniforms()
      .u32(total)
      .vec4u(...g.input, elements)
      .vec4u(...g.output, elements)
      .vec4f(...g.input.map((e, i) => e / g.output[i]!))
      .vec4u(...g.output.map((e, i) => Math.floor(e / g.input[i]!)))
      .bytes(),
    workgroups: Math.ceil(total / WORKGROUP),
  });
}
