// The float64 reference of the 3-D convolution, for every test of the conv3d kernels and ops: y, dx, dw
// and db of one geometry (src/kernels/conv3d), by visiting every (output voxel, tap) pair.
import { convOutputExtent, type Conv3dGeometry, type Triple } from '../../src/kernels/conv3d';

const triple = (v: number | Triple): Triple => (typeof v === 'number' ? [v, v, v] : v);

/** The geometry of a convolution of x [batch, input, inChannels]; a number stands for the same extent on all three axes. */
export function convGeometry(
  batch: number,
  input: Triple,
  inChannels: number,
  outChannels: number,
  kernel: number | Triple,
  stride: number | Triple,
  padding: number | Triple,
): Conv3dGeometry {
  const [k, s, p] = [triple(kernel), triple(stride), triple(padding)];
  const output = input.map((e, i) => convOutputExtent(e, k[i]!, s[i]!, p[i]!)) as Triple;
  return { batch, input, inChannels, output, outChannels, kernel: k, stride: s, padding: p };
}

export const voxels = (g: Conv3dGeometry, side: 'input' | 'output'): number => g.batch * g[side][0] * g[side][1] * g[side][2];

/**
 * y = conv3d(x, w) + b and, given dy, the gradients dx, dw and db, in float64: x [N, D, H, W, Cin],
 * w [Cout, kD, kH, kW, Cin], b [Cout], dy of y's shape (or empty, for y alone).
 */
export function conv3dReference(c: Conv3dGeometry, x: Float64Array, w: Float64Array, b: Float64Array, dy: Float64Array) {
  const [D, H, W] = c.input;
  const [OD, OH, OW] = c.output;
  const [KD, KH, KW] = c.kernel;
  const taps = KD * KH * KW;
  const ci = c.inChannels;
  const co = c.outChannels;
  const y = new Float64Array(voxels(c, 'output') * co);
  for (let i = 0; i < y.length; i++) y[i] = b[i % co]!;
  const withGrad = dy.length > 0;
  const dx = new Float64Array(x.length);
  const dw = new Float64Array(w.length);
  const db = new Float64Array(co);
  if (withGrad) for (let i = 0; i < y.length; i++) db[i % co]! += dy[i]!;
  for (let n = 0; n < c.batch; n++)
    for (let od = 0; od < OD; od++)
      for (let oh = 0; oh < OH; oh++)
        for (let ow = 0; ow < OW; ow++) {
          const yb = (((n * OD + od) * OH + oh) * OW + ow) * co;
          for (let kd = 0; kd < KD; kd++)
            for (let kh = 0; kh < KH; kh++)
              for (let kw = 0; kw < KW; kw++) {
                const id = od * c.stride[0] - c.padding[0] + kd;
                const ih = oh * c.stride[1] - c.padding[1] + kh;
                const iw = ow * c.stride[2] - c.padding[2] + kw;
                if (id < 0 || id >= D || ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const xb = (((n * D + id) * H + ih) * W + iw) * ci;
                const tap = (kd * KH + kh) * KW + kw;
                for (let o = 0; o < co; o++) {
                  const wb = (o * taps + tap) * ci;
                  let acc = 0;
                  for (let i = 0; i < ci; i++) {
                    acc += x[xb + i]! * w[wb + i]!;
                    if (!withGrad) continue;
                    dx[xb + i]! += dy[yb + o]! * w[wb + i]!;
                    dw[wb + i]! += dy[yb + o]! * x[xb + i]!;
                  }
                  y[yb + o]! += acc;
                }
              }
        }
  return { y, dx, dw, db };
}
