// The geometry of one 3-D convolution, shared by its launchers, its tuner and every caller that builds
// one (src/graph/ops/conv.ts). Activations are [N, D, H, W, C], weights [Cout, kD, kH, kW, Cin].

/** Three extents, strides or paddings in spatial order (D, H, W). */
export type Triple = [number, number, number];

/** Everything that fixes the index arithmetic of one convolution. */
export interface Conv3dGeometry {
  batch: number;
  /** Input extents (D, H, W) and channels. */
  input: Triple;
  inChannels: number;
  /** Output extents (D, H, W) and channels. */
  output: Triple;
  outChannels: number;
  kernel: Triple;
  stride: Triple;
  padding: Triple;
}

/** Output extent along one axis: floor((in + 2p - k) / s) + 1. */
export function convOutputExtent(input: number, kernel: number, stride: number, padding: number): number {
  return Math.floor((input + 2 * padding - kernel) / stride) + 1;
}

/** The product of three extents: voxels of a grid, or taps of a kernel. */
export const volume = (t: readonly number[]): number => t[0]! * t[1]! * t[2]!;

/** Multiply-adds x 2 of one direction (all three directions are the same GEMM). */
export function convFlops(g: Conv3dGeometry): number {
  return 2 * g.batch * volume(g.output) * g.outChannels * g.inChannels * volume(g.kernel);
}
