// conv3d and convTranspose3d (forward and every gradient) against float64 references, over kernel
// sizes, strides and paddings, plus finite-difference gradient checks on tiny shapes.
import { beforeAll, describe, expect, it } from 'vitest';
import * as g from '../../src/graph';
import type { Runtime } from '../../src/gpu/runtime';
import type { Triple } from '../../src/kernels/conv3d';
import { conv3dReference, convGeometry, voxels } from '../helpers/conv-reference';
import { gradcheck } from '../helpers/gradcheck';
import { expectClose, randomArray } from '../helpers/reference';
import { testRuntime } from '../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime();
});

const t3 = (v: number | Triple): Triple => (typeof v === 'number' ? [v, v, v] : v);

interface ConvCase {
  batch: number;
  size: Triple;
  cin: number;
  cout: number;
  kernel: Triple;
  stride: Triple;
  padding: Triple;
}

const caseGeometry = (c: ConvCase) => convGeometry(c.batch, c.size, c.cin, c.cout, c.kernel, c.stride, c.padding);

const baseCase = { batch: 2, size: [5, 6, 7] as Triple, cin: 3, cout: 4 };
const cases: (ConvCase & { name: string })[] = [];
for (const k of [1, 3])
  for (const s of [1, 2])
    for (const p of [0, 1]) cases.push({ ...baseCase, name: `kernel ${k}, stride ${s}, padding ${p}`, kernel: t3(k), stride: t3(s), padding: t3(p) });
cases.push({ ...baseCase, name: 'anisotropic kernel [3, 2, 1], stride [2, 1, 3], padding [1, 0, 2]', kernel: [3, 2, 1], stride: [2, 1, 3], padding: [1, 0, 2] });
cases.push({ ...baseCase, name: 'kernel [2, 3, 4], stride 3 (inputs no tap reaches), padding [2, 1, 0]', kernel: [2, 3, 4], stride: [3, 3, 3], padding: [2, 1, 0] });
cases.push({ batch: 1, size: [3, 3, 3], cin: 5, cout: 2, name: 'kernel as large as the padded input', kernel: [5, 5, 5], stride: [1, 1, 1], padding: [1, 1, 1] });

describe('conv3d', () => {
  for (const c of cases) {
    it(`forward and backward match float64: ${c.name}`, async () => {
      const taps = c.kernel[0] * c.kernel[1] * c.kernel[2];
      const xShape = [c.batch, ...c.size, c.cin];
      const wShape = [c.cout, ...c.kernel, c.cin];
      const x = randomArray(xShape.reduce((a, b) => a * b), 1);
      const w = randomArray(c.cout * taps * c.cin, 2);
      const b = randomArray(c.cout, 3);
      const geometry = caseGeometry(c);
      const dy = randomArray(voxels(geometry, 'output') * c.cout, 4);
      const ref = conv3dReference(geometry, x, w, b, dy);
      const [y, dx, dw, db] = await g.tidyAsync(async () => {
        const xt = g.parameter(rt, x, xShape);
        const wt = g.parameter(rt, w, wShape);
        const bt = g.parameter(rt, b, [c.cout]);
        const yt = g.conv3d(xt, wt, bt, { stride: c.stride, padding: c.padding });
        expect(yt.shape).toEqual([c.batch, ...geometry.output, c.cout]);
        g.backward(yt, g.fromArray(rt, dy, yt.shape));
        return Promise.all([yt.read(), xt.grad!.read(), wt.grad!.read(), bt.grad!.read()]);
      });
      expectClose(y, ref.y, 1e-4, 1e-5, 'y');
      expectClose(dx, ref.dx, 1e-4, 1e-5, 'dx');
      expectClose(dw, ref.dw, 1e-4, 1e-5, 'dw');
      expectClose(db, ref.db, 1e-4, 1e-5, 'db');
    });
  }

  it('works without a bias and with scalar options', async () => {
    const c: ConvCase = { batch: 1, size: [4, 3, 5], cin: 2, cout: 3, kernel: [3, 3, 3], stride: [2, 2, 2], padding: [1, 1, 1] };
    const x = randomArray(1 * 4 * 3 * 5 * 2, 5);
    const w = randomArray(3 * 27 * 2, 6);
    const ref = conv3dReference(caseGeometry(c), x, w, new Float64Array(3), new Float64Array(0));
    const y = await g.tidyAsync(async () => g.conv3d(g.fromArray(rt, x, [1, 4, 3, 5, 2]), g.fromArray(rt, w, [3, 3, 3, 3, 2]), null, { stride: 2, padding: 1 }).read());
    expectClose(y, ref.y, 1e-4, 1e-5);
  });

  it('has the finite-difference gradient', async () => {
    const opts = { stride: [2, 1, 1] as Triple, padding: [1, 0, 1] as Triple };
    await gradcheck(rt, (x, w, b) => g.conv3d(x, w, b, opts), [
      { data: randomArray(24, 7), shape: [1, 3, 4, 1, 2] },
      { data: randomArray(36, 8), shape: [2, 3, 3, 1, 2] },
      { data: randomArray(2, 9), shape: [2] },
    ]);
  });

  it('rejects mismatched channels, ranks, bias and options with the shapes in the message', () => {
    g.tidy(() => {
      const x = g.zeros(rt, [1, 5, 5, 5, 3]);
      expect(() => g.conv3d(x, g.zeros(rt, [2, 3, 3, 3, 4]), null)).toThrow('conv3d: input [1, 5, 5, 5, 3] has 3 channels, weight [2, 3, 3, 3, 4] expects 4');
      expect(() => g.conv3d(g.zeros(rt, [5, 5, 5, 3]), g.zeros(rt, [2, 3, 3, 3, 3]), null)).toThrow(/5 dimensions/);
      expect(() => g.conv3d(x, g.zeros(rt, [2, 3, 3, 3, 3]), g.zeros(rt, [3]))).toThrow(/bias \[3\] must have shape \[2\]/);
      expect(() => g.conv3d(x, g.zeros(rt, [2, 3, 3, 3, 3]), null, { stride: 0 })).toThrow(/stride/);
      expect(() => g.conv3d(x, g.zeros(rt, [2, 7, 3, 3, 3]), null)).toThrow(/does not fit/);
    });
  });
});

/** convTranspose3d in float64: out[n, o*s - p + k, co] += x[n, o, ci] * w[ci, k, co]. */
function convTransposeRef(x: Float64Array, xShape: number[], w: Float64Array, wShape: number[], b: Float64Array, s: Triple, p: Triple, extra: Triple) {
  const [N, D, H, W, cin] = xShape as [number, number, number, number, number];
  const [, kd, kh, kw, cout] = wShape as [number, number, number, number, number];
  const od = (D - 1) * s[0] - 2 * p[0] + kd + extra[0];
  const oh = (H - 1) * s[1] - 2 * p[1] + kh + extra[1];
  const ow = (W - 1) * s[2] - 2 * p[2] + kw + extra[2];
  const y = new Float64Array(N * od * oh * ow * cout);
  for (let i = 0; i < y.length; i++) y[i] = b[i % cout]!;
  for (let n = 0; n < N; n++)
    for (let d = 0; d < D; d++)
      for (let h = 0; h < H; h++)
        for (let ww = 0; ww < W; ww++)
          for (let a = 0; a < kd; a++)
            for (let bb = 0; bb < kh; bb++)
              for (let e = 0; e < kw; e++) {
                const zd = d * s[0] - p[0] + a;
                const zh = h * s[1] - p[1] + bb;
                const zw = ww * s[2] - p[2] + e;
                if (zd < 0 || zd >= od || zh < 0 || zh >= oh || zw < 0 || zw >= ow) continue;
                for (let ci = 0; ci < cin; ci++)
                  for (let co = 0; co < cout; co++) {
                    y[(((n * od + zd) * oh + zh) * ow + zw) * cout + co]! +=
                      x[(((n * D + d) * H + h) * W + ww) * cin + ci]! * w[(((ci * kd + a) * kh + bb) * kw + e) * cout + co]!;
                  }
              }
  return { y, shape: [N, od, oh, ow, cout] };
}

describe('convTranspose3d', () => {
  const transposeCases: { name: string; kernel: Triple; stride: Triple; padding: Triple; extra: Triple }[] = [
    { name: 'kernel 2, stride 2 (x2 upsampling)', kernel: [2, 2, 2], stride: [2, 2, 2], padding: [0, 0, 0], extra: [0, 0, 0] },
    { name: 'kernel 3, stride 2, padding 1, output padding 1', kernel: [3, 3, 3], stride: [2, 2, 2], padding: [1, 1, 1], extra: [1, 1, 1] },
    { name: 'kernel [3, 1, 2], stride [1, 3, 2], padding [1, 0, 0], output padding [0, 2, 1]', kernel: [3, 1, 2], stride: [1, 3, 2], padding: [1, 0, 0], extra: [0, 2, 1] },
  ];
  for (const c of transposeCases) {
    it(`matches float64: ${c.name}`, async () => {
      const xShape = [2, 3, 4, 5, 3];
      const wShape = [3, ...c.kernel, 4];
      const x = randomArray(xShape.reduce((a, b) => a * b), 11);
      const w = randomArray(wShape.reduce((a, b) => a * b), 12);
      const b = randomArray(4, 13);
      const ref = convTransposeRef(x, xShape, w, wShape, b, c.stride, c.padding, c.extra);
      const y = await g.tidyAsync(async () => {
        const yt = g.convTranspose3d(g.fromArray(rt, x, xShape), g.fromArray(rt, w, wShape), g.fromArray(rt, b, [4]), { stride: c.stride, padding: c.padding, outputPadding: c.extra });
        expect(yt.shape).toEqual(ref.shape);
        return yt.read();
      });
      expectClose(y, ref.y, 1e-4, 1e-5);
    });
  }

  it('has the finite-difference gradient', async () => {
    await gradcheck(rt, (x, w, b) => g.convTranspose3d(x, w, b, { stride: [2, 1, 2], padding: [0, 0, 1], outputPadding: [1, 0, 0] }), [
      { data: randomArray(12, 14), shape: [1, 2, 3, 1, 2] },
      { data: randomArray(24, 15), shape: [2, 2, 1, 3, 2] },
      { data: randomArray(2, 16), shape: [2] },
    ]);
  });
});
