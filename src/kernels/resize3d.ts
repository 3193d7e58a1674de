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
const codes: Record<ResizeKernel, string> = {
  trilinear: kernelSource(source, {}),
  trilinear_grad: kernelSource(source, { TRILINEAR_GRAD: true }),
  nearest: kernelSource(source, { NEAREST: true }),
  nearest_grad: kernelSource(source, { NEAREST_GRAD: true }),
};

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
  const extent = grad ? g.input : g.output;
  const total = g.batch * extent[0] * extent[1] * extent[2] * g.channels;
  runtime.dispatch({
    kernel: `resize3d_${kernel}`,
    source: codes[kernel],
    buffers: [src, dst],
    uniforms: uniforms()
      .u32(total)
      .vec4u(...g.input, g.channels)
      .vec4u(...g.output, g.channels)
      .vec4f(...g.input.map((e, i) => e / g.output[i]!))
      .vec4u(...g.output.map((e, i) => Math.floor(e / g.input[i]!)))
      .bytes(),
    workgroups: Math.ceil(total / WORKGROUP),
  });
}
