// The convolution launchers the graph ops (src/graph/ops/conv.ts) call: each runs the implicit-GEMM
// kernel of its direction with the tile the runtime's tuner picks for the shape (tuner.ts), which is the
// fixed default tile unless a tuning table was imported or tuned for this adapter.
import type { Runtime } from '../../gpu/runtime';
import type { Conv3dGeometry } from './geometry';
import { conv3dFastForwardWith, conv3dFastGradInputWith, conv3dFastGradWeightWith } from './implicit-gemm';
import type { Activation } from './tiles';
import { conv3dTuner } from './tuner';

/** y = act(conv3d(x, w) + bias), with the tile the tuner picks for this shape on this adapter. */
export function conv3dFastForward(
  runtime: Runtime,
  g: Conv3dGeometry,
  x: GPUBuffer,
  w: GPUBuffer,
  bias: GPUBuffer | null,
  y: GPUBuffer,
  activation: Activation = 'none',
): void {
  conv3dFastForwardWith(runtime, conv3dTuner(runtime).choose('forward', g), g, x, w, bias, y, activation);
}

/** dx from dy and the [Cout, k, Cin] weights (also a transposed convolution's forward pass). */
export function conv3dFastGradInput(runtime: Runtime, g: Conv3dGeometry, dy: GPUBuffer, w: GPUBuffer, dx: GPUBuffer): void {
  conv3dFastGradInputWith(runtime, conv3dTuner(runtime).choose('backwardData', g), g, dy, w, dx);
}

/** dw from the convolution's input x and dy. */
export function conv3dFastGradWeight(runtime: Runtime, g: Conv3dGeometry, x: GPUBuffer, dy: GPUBuffer, dw: GPUBuffer): void {
  conv3dFastGradWeightWith(runtime, conv3dTuner(runtime).choose('backwardWeight', g), g, x, dy, dw);
}
