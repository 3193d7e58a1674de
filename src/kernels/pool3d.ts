// Launchers for 3-D average pooling (no padding) on channels-last volumes and its gradient.
import poolKernel from '../../shaders/pool3d.wgsl';
import volumeIndex from '../../shaders/shared/volume_index.wgsl';
import type { Runtime } from '../gpu/runtime';
import { kernelSource } from '../gpu/shader';
import { uniforms } from '../gpu/uniforms';
import type { Triple } from './conv3d';

/** The kernel with the volume addressing it calls. */
const source = `${volumeIndex}\n${poolKernel}`;

export interface Pool3dGeometry {
  batch: number;
  channels: number;
  input: Triple;
  output: Triple;
  kernel: Triple;
  stride: Triple;
}

const WORKGROUP = 64;
const codes = { forward: kernelSource(source, {}), grad: kernelSource(source, { GRAD: true }) };

function launch(runtime: Runtime, g: Pool3dGeometry, grad: boolean, src: GPUBuffer, dst: GPUBuffer): void {
  const extent = grad ? g.input : g.output;
  const total = g.batch * extent[0] * extent[1] * extent[2] * g.channels;
  runtime.dispatch({
    kernel: grad ? 'avg_pool3d_grad' : 'avg_pool3d',
    source: grad ? codes.grad : codes.forward,
    buffers: [src, dst],
    uniforms: uniforms()
      .u32(total)
      .f32(1 / (g.kernel[0] * g.kernel[1] * g.kernel[2]))
      .vec4u(...g.input, g.channels)
      .vec4u(...g.output, g.channels)
      .vec4u(...g.kernel)
      .vec4u(...g.stride)
      .bytes(),
    workgroups: Math.ceil(total / WORKGROUP),
  });
}

/** y [N, output, C] = window means of x [N, input, C]. */
export function avgPool3dForward(runtime: Runtime, g: Pool3dGeometry, x: GPUBuffer, y: GPUBuffer): void {
  launch(runtime, g, false, x, y);
}

/** dx [N, input, C] from dy [N, output, C]. */
export function avgPool3dGrad(runtime: Runtime, g: Pool3dGeometry, dy: GPUBuffer, dx: GPUBuffer): void {
  launch(runtime, g, true, dy, dx);
}
