// avgPool3d and its gradient against float64 references; finite-difference gradient check.
import { beforeAll, describe, expect, it } from 'vitest';
import * as g from '../../src/graph';
import type { Runtime } from '../../src/gpu/runtime';
import { gradcheck } from '../helpers/gradcheck';
import { expectClose, randomArray } from '../helpers/reference';
import { testRuntime } from '../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime();
});

type T3 = [number, number, number];

/** Forward and input gradient (for seed dy) of average pooling in float64, by scattering over windows. */
function poolRef(x: Float64Array, shape: number[], k: T3, s: T3, dy?: Float64Array) {
  const [N, D, H, W, C] = shape as [number, number, number, number, number];
  const out = [D, H, W].map((e, i) => Math.floor((e - k[i]!) / s[i]!) + 1) as T3;
  const y = new Float64Array(N * out[0] * out[1] * out[2] * C);
  const dx = new Float64Array(x.length);
  const inv = 1 / (k[0] * k[1] * k[2]);
  for (let n = 0; n < N; n++)
    for (let od = 0; od < out[0]; od++)
      for (let oh = 0; oh < out[1]; oh++)
        for (let ow = 0; ow < out[2]; ow++)
          for (let c = 0; c < C; c++) {
            const yi = (((n * out[0] + od) * out[1] + oh) * out[2] + ow) * C + c;
            for (let a = 0; a < k[0]; a++)
              for (let b = 0; b < k[1]; b++)
                for (let e = 0; e < k[2]; e++) {
                  const xi = (((n * D + od * s[0] + a) * H + oh * s[1] + b) * W + ow * s[2] + e) * C + c;
                  y[yi]! += x[xi]! * inv;
                  if (dy) dx[xi]! += dy[yi]! * inv;
                }
          }
  return { y, dx, shape: [N, ...out, C] };
}

describe('avgPool3d', () => {
  const cases: { k: T3; s?: T3 }[] = [
    { k: [3, 3, 2] },
    { k: [2, 2, 2] },
    { k: [1, 1, 1] },
    { k: [3, 3, 3], s: [1, 1, 1] },
    { k: [3, 2, 3], s: [2, 1, 3] },
    { k: [2, 3, 1], s: [3, 2, 2] },
  ];
  for (const { k, s } of cases) {
    it(`forward and gradient match float64: kernel [${k}], stride [${s ?? k}]`, async () => {
      const shape = [2, 5, 6, 7, 3];
      const x = randomArray(2 * 5 * 6 * 7 * 3, 21);
      const probe = poolRef(x, shape, k, s ?? k);
      const dy = randomArray(probe.y.length, 22);
      const ref = poolRef(x, shape, k, s ?? k, dy);
      const [y, dx] = await g.tidyAsync(async () => {
        const xt = g.parameter(rt, x, shape);
        const yt = s ? g.avgPool3d(xt, k, s) : g.avgPool3d(xt, k);
        expect(yt.shape).toEqual(ref.shape);
        g.backward(yt, g.fromArray(rt, dy, yt.shape));
        return Promise.all([yt.read(), xt.grad!.read()]);
      });
      expectClose(y, ref.y, 1e-4, 1e-6, 'y');
      expectClose(dx, ref.dx, 1e-4, 1e-6, 'dx');
    });
  }

  it('has the finite-difference gradient', async () => {
    await gradcheck(rt, (x) => g.avgPool3d(x, [2, 2, 1], [1, 2, 1]), [{ data: randomArray(36, 23), shape: [1, 3, 4, 3, 1] }]);
  });

  it('rejects kernels larger than the input and bad ranks', () => {
    g.tidy(() => {
      expect(() => g.avgPool3d(g.zeros(rt, [1, 2, 5, 5, 1]), 3)).toThrow(/larger than input \[1, 2, 5, 5, 1\]/);
      expect(() => g.avgPool3d(g.zeros(rt, [2, 5, 5, 1]), 2)).toThrow(/5 dimensions/);
      expect(() => g.avgPool3d(g.zeros(rt, [1, 4, 4, 4, 1]), 2, 0)).toThrow(/stride/);
    });
  });
});
