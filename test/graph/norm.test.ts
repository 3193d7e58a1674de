// GroupNorm and InstanceNorm (forward, input and affine gradients) against float64 references, a large
// group far from zero for numerical stability, and finite-difference gradient checks.
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

/**
 * GroupNorm of x [N, ..., C] in float64 and, for a seed dy, its gradients by the closed form
 * dx = rstd * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) per group, dgamma = sum dy * x_hat,
 * dbeta = sum dy.
 */
function groupNormRef(x: Float64Array, shape: number[], groups: number, gamma: Float64Array, beta: Float64Array, eps: number, dy: Float64Array) {
  const N = shape[0]!;
  const C = shape[shape.length - 1]!;
  const S = x.length / (N * C);
  const cg = C / groups;
  const y = new Float64Array(x.length);
  const dx = new Float64Array(x.length);
  const dgamma = new Float64Array(C);
  const dbeta = new Float64Array(C);
  for (let n = 0; n < N; n++)
    for (let grp = 0; grp < groups; grp++) {
      const idx: number[] = [];
      for (let s = 0; s < S; s++) for (let c = grp * cg; c < (grp + 1) * cg; c++) idx.push((n * S + s) * C + c);
      const mean = idx.reduce((a, i) => a + x[i]!, 0) / idx.length;
      const variance = idx.reduce((a, i) => a + (x[i]! - mean) ** 2, 0) / idx.length;
      const rstd = 1 / Math.sqrt(variance + eps);
      let m1 = 0;
      let m2 = 0;
      for (const i of idx) {
        const c = i % C;
        const xHat = (x[i]! - mean) * rstd;
        y[i] = xHat * gamma[c]! + beta[c]!;
        m1 += (dy[i]! * gamma[c]!) / idx.length;
        m2 += (dy[i]! * gamma[c]! * xHat) / idx.length;
        dgamma[c]! += dy[i]! * xHat;
        dbeta[c]! += dy[i]!;
      }
      for (const i of idx) {
        const xHat = (x[i]! - mean) * rstd;
        dx[i] = rstd * (dy[i]! * gamma[i % C]! - m1 - xHat * m2);
      }
    }
  return { y, dx, dgamma, dbeta };
}

const f32 = (a: Float64Array) => Float64Array.from(a, Math.fround);

async function runGroupNorm(x: Float64Array, shape: number[], groups: number | 'instance', gamma: Float64Array | null, beta: Float64Array | null, dy: Float64Array, eps?: number) {
  const C = shape[shape.length - 1]!;
  return g.tidyAsync(async () => {
    const xt = g.parameter(rt, x, shape);
    const gt = gamma && g.parameter(rt, gamma, [C]);
    const bt = beta && g.parameter(rt, beta, [C]);
    const yt = groups === 'instance' ? g.instanceNorm(xt, gt, bt, eps) : g.groupNorm(xt, groups, gt, bt, eps);
    expect(yt.shape).toEqual(shape);
    g.backward(yt, g.fromArray(rt, dy, shape));
    return {
      y: await yt.read(),
      dx: await xt.grad!.read(),
      dgamma: gt && (await gt.grad!.read()),
      dbeta: bt && (await bt.grad!.read()),
    };
  });
}

describe('groupNorm', () => {
  const cases: { name: string; shape: number[]; groups: number | 'instance'; affine: boolean; eps?: number }[] = [
    { name: '[2, 5, 6, 7, 4], 1 group', shape: [2, 5, 6, 7, 4], groups: 1, affine: true },
    { name: '[2, 5, 6, 7, 4], 2 groups', shape: [2, 5, 6, 7, 4], groups: 2, affine: true },
    { name: '[2, 5, 6, 7, 3], instanceNorm', shape: [2, 5, 6, 7, 3], groups: 'instance', affine: true },
    { name: '[2, 5, 6, 7, 4], 4 groups without affine parameters, eps 1e-3', shape: [2, 5, 6, 7, 4], groups: 4, affine: false, eps: 1e-3 },
    { name: '[3, 9, 6] (rank 3), 3 groups', shape: [3, 9, 6], groups: 3, affine: true },
  ];
  for (const c of cases) {
    it(`forward and gradients match float64: ${c.name}`, async () => {
      const n = c.shape.reduce((a, b) => a * b);
      const C = c.shape[c.shape.length - 1]!;
      const x = randomArray(n, 41, -2, 3);
      const dy = randomArray(n, 42);
      const gamma = c.affine ? randomArray(C, 43, 0.5, 1.5) : null;
      const beta = c.affine ? randomArray(C, 44) : null;
      const groups = c.groups === 'instance' ? C : c.groups;
      const eps = c.eps ?? 1e-5;
      const ref = groupNormRef(x, c.shape, groups, gamma ?? new Float64Array(C).fill(1), beta ?? new Float64Array(C), eps, dy);
      const got = await runGroupNorm(x, c.shape, c.groups, gamma, beta, dy, c.eps);
      expectClose(got.y, ref.y, 1e-4, 1e-5, 'y');
      expectClose(got.dx, ref.dx, 1e-3, 1e-5, 'dx');
      if (c.affine) {
        expectClose(got.dgamma!, ref.dgamma, 1e-3, 1e-4, 'dgamma');
        expectClose(got.dbeta!, ref.dbeta, 1e-3, 1e-4, 'dbeta');
      }
    });
  }

  it('stays accurate on a group of 128000 elements far from zero (mean 1000, std 0.6)', async () => {
    const shape = [1, 40, 40, 40, 2];
    const x = f32(randomArray(128000, 45, 999, 1001));
    const dy = f32(randomArray(128000, 46));
    const gamma = Float64Array.of(1.5, 0.5);
    const beta = Float64Array.of(0.1, -0.2);
    const ref = groupNormRef(x, shape, 1, gamma, beta, 1e-5, dy);
    const got = await runGroupNorm(x, shape, 1, gamma, beta, dy);
    // x itself is only known to f32 (1000 +- 6e-5), so the normalised values agree to about 1e-4.
    expectClose(got.y, ref.y, 1e-3, 2e-4, 'y');
    expectClose(got.dx, ref.dx, 1e-3, 1e-4, 'dx');
    expectClose(got.dgamma!, ref.dgamma, 1e-3, 1e-2, 'dgamma');
    expectClose(got.dbeta!, ref.dbeta, 1e-3, 1e-2, 'dbeta');
  });

  it('has the finite-difference gradient for input, gamma and beta', async () => {
    await gradcheck(rt, (x, gamma, beta) => g.groupNorm(x, 2, gamma, beta), [
      { data: randomArray(48, 47, -2, 2), shape: [2, 2, 3, 1, 4] },
      { data: randomArray(4, 48, 0.5, 1.5), shape: [4] },
      { data: randomArray(4, 49), shape: [4] },
    ]);
  });

  it('has the finite-difference gradient without affine parameters (instanceNorm)', async () => {
    await gradcheck(rt, (x) => g.instanceNorm(x, null, null), [{ data: randomArray(24, 50, -2, 2), shape: [1, 3, 4, 1, 2] }]);
  });

  it('backward works after the forward pass scope has closed', async () => {
    const x = randomArray(30, 51);
    const dx = await g.tidyAsync(async () => {
      const xt = g.parameter(rt, x, [1, 5, 6]);
      const y = g.tidy(() => g.groupNorm(xt, 2, null, null));
      g.backward(y, g.fromArray(rt, randomArray(30, 52), [1, 5, 6]));
      return xt.grad!.read();
    });
    const ref = groupNormRef(x, [1, 5, 6], 2, new Float64Array(6).fill(1), new Float64Array(6), 1e-5, randomArray(30, 52));
    expectClose(dx, ref.dx, 1e-3, 1e-5);
  });

  it('rejects channel counts that do not split into the groups and mis-shaped affine parameters', () => {
    g.tidy(() => {
      const x = g.zeros(rt, [1, 2, 2, 2, 6]);
      expect(() => g.groupNorm(x, 4, null, null)).toThrow('groupNorm: 6 channels of input [1, 2, 2, 2, 6] do not split into 4 groups');
      expect(() => g.groupNorm(x, 3, g.ones(rt, [3]), null)).toThrow(/gamma \[3\] must have shape \[6\]/);
    });
  });
});
