// Screener's losses (VICReg, symmetric InfoNCE, diagonal-Gaussian NLL) against float64 references
// written out plainly here, on random inputs of odd sizes, and finite-difference gradient checks.
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

const row = (z: Float64Array, d: number, i: number) => Array.from(z.subarray(i * d, (i + 1) * d));

function columnMeans(z: Float64Array, n: number, d: number): number[] {
  const m = new Array<number>(d).fill(0);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) m[j] += z[i * d + j]! / n;
  return m;
}

/** VICReg's parts in float64, following the reference implementation term by term. */
function vicregRef(za: Float64Array, zb: Float64Array, n: number, d: number) {
  let invariance = 0;
  for (let i = 0; i < n * d; i++) invariance += (za[i]! - zb[i]!) ** 2 / (n * d);
  const parts = (z: Float64Array) => {
    const m = columnMeans(z, n, d);
    const cov = (j: number, k: number) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += (z[i * d + j]! - m[j]!) * (z[i * d + k]! - m[k]!);
      return s / (n - 1);
    };
    let hinge = 0;
    let offDiagonal = 0;
    for (let j = 0; j < d; j++) {
      hinge += Math.max(0, 1 - Math.sqrt(cov(j, j) + 1e-4)) / d;
      for (let k = 0; k < d; k++) if (k !== j) offDiagonal += cov(j, k) ** 2 / d;
    }
    return { hinge, offDiagonal };
  };
  const a = parts(za);
  const b = parts(zb);
  const variance = a.hinge + b.hinge;
  const covariance = a.offDiagonal + b.offDiagonal;
  return { loss: 25 * invariance + 25 * variance + covariance, invariance, variance, covariance };
}

function infoNCERef(za: Float64Array, zb: Float64Array, n: number, d: number, tau: number): number {
  const unit = (z: Float64Array, i: number) => {
    const v = row(z, d, i);
    const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    return v.map((x) => x / norm);
  };
  const a = Array.from({ length: n }, (_, i) => unit(za, i));
  const b = Array.from({ length: n }, (_, i) => unit(zb, i));
  const logit = (i: number, j: number) => a[i]!.reduce((s, x, k) => s + x * b[j]![k]!, 0) / tau;
  const lse = (values: number[]) => {
    const m = Math.max(...values);
    return m + Math.log(values.reduce((s, v) => s + Math.exp(v - m), 0));
  };
  let rows = 0;
  let columns = 0;
  for (let i = 0; i < n; i++) {
    rows += (lse(Array.from({ length: n }, (_, j) => logit(i, j))) - logit(i, i)) / n;
    columns += (lse(Array.from({ length: n }, (_, j) => logit(j, i))) - logit(i, i)) / n;
  }
  return (rows + columns) / 2;
}

describe('VICReg', () => {
  it('matches float64 in every part (n = 37, d = 13)', async () => {
    const [n, d] = [37, 13];
    // Two scales so that some dimensions sit below the hinge (std < 1) and some above it.
    const za = randomArray(n * d, 1, -1, 1).map((v, i) => (i % d < 6 ? v : 3 * v));
    const zb = za.map((v, i) => v + 0.3 * randomArray(n * d, 2)[i]!);
    const got = await g.tidyAsync(async () => {
      const r = g.vicreg(g.fromArray(rt, za, [n, d]), g.fromArray(rt, zb, [n, d]));
      expect(r.loss.shape).toEqual([]);
      return Promise.all([r.loss.item(), r.invariance.item(), r.variance.item(), r.covariance.item()]);
    });
    const ref = vicregRef(za, zb, n, d);
    expectClose(got, [ref.loss, ref.invariance, ref.variance, ref.covariance], 1e-4, 1e-6, 'loss, invariance, variance, covariance');
  });

  it('weights are options', async () => {
    const [n, d] = [9, 5];
    const za = randomArray(n * d, 3);
    const zb = randomArray(n * d, 4);
    const got = await g.tidyAsync(async () =>
      g.vicreg(g.fromArray(rt, za, [n, d]), g.fromArray(rt, zb, [n, d]), { invarianceWeight: 2, varianceWeight: 3, covarianceWeight: 5 }).loss.item(),
    );
    const ref = vicregRef(za, zb, n, d);
    expectClose([got], [2 * ref.invariance + 3 * ref.variance + 5 * ref.covariance], 1e-4, 1e-6);
  });

  it('has the finite-difference gradient', async () => {
    const [n, d] = [5, 3];
    await gradcheck(rt, (a, b) => g.vicreg(a!, b!).loss, [
      { data: randomArray(n * d, 5), shape: [n, d] },
      { data: randomArray(n * d, 6), shape: [n, d] },
    ]);
  });

  it('names the shapes it rejects', () => {
    g.tidy(() => {
      expect(() => g.vicreg(g.zeros(rt, [4, 3]), g.zeros(rt, [4, 2]))).toThrow(/vicreg: .*\[4, 3\] and \[4, 2\]/);
      expect(() => g.vicreg(g.zeros(rt, [1, 3]), g.zeros(rt, [1, 3]))).toThrow(/at least 2 samples/);
    });
  });
});

describe('symmetric InfoNCE', () => {
  it('matches float64 (n = 23, d = 7, tau = 0.1 and 0.5)', async () => {
    const [n, d] = [23, 7];
    const za = randomArray(n * d, 7);
    const zb = za.map((v, i) => v + 0.5 * randomArray(n * d, 8)[i]!);
    for (const temperature of [0.1, 0.5]) {
      const got = await g.tidyAsync(async () => g.infoNCE(g.fromArray(rt, za, [n, d]), g.fromArray(rt, zb, [n, d]), { temperature }).item());
      expectClose([got], [infoNCERef(za, zb, n, d, temperature)], 1e-4, 1e-6, `tau ${temperature}`);
    }
  });

  it('averages both directions, which differ when the columns are skewed', async () => {
    // One zb row near every za row makes the columns' softmax differ from the rows'; a loss that
    // averaged only one direction would miss the reference here.
    const [n, d] = [5, 3];
    const za = randomArray(n * d, 9);
    const zb = Float64Array.from({ length: n * d }, (_, i) => za[i % d]! + 0.1 * Math.sin(i));
    const got = await g.tidyAsync(async () => g.infoNCE(g.fromArray(rt, za, [n, d]), g.fromArray(rt, zb, [n, d])).item());
    expectClose([got], [infoNCERef(za, zb, n, d, 0.1)], 1e-4, 1e-6);
  });

  it('has the finite-difference gradient', async () => {
    const [n, d] = [5, 3];
    await gradcheck(rt, (a, b) => g.infoNCE(a!, b!, { temperature: 0.5 }), [
      { data: randomArray(n * d, 10), shape: [n, d] },
      { data: randomArray(n * d, 11), shape: [n, d] },
    ], { eps: 5e-3 });
  });

  it('l2Normalize gives unit rows and a finite gradient at zero', async () => {
    const x = randomArray(5 * 7, 12, -3, 3);
    const got = await g.tidyAsync(async () => g.l2Normalize(g.fromArray(rt, x, [5, 7])).read());
    const ref = Array.from({ length: 5 }, (_, i) => {
      const v = row(x, 7, i);
      const norm = Math.sqrt(v.reduce((s, a) => s + a * a, 0));
      return v.map((a) => a / norm);
    }).flat();
    expectClose(got, ref, 1e-5, 1e-6);
    const grad = await g.tidyAsync(async () => {
      const zero = g.zeros(rt, [1, 3], { requiresGrad: true });
      g.backward(g.sum(g.l2Normalize(zero)));
      return zero.grad!.read();
    });
    expect(Array.from(grad).every(Number.isFinite)).toBe(true);
  });
});

describe('Gaussian NLL', () => {
  const nll = (x: number, mu: number, logvar: number) => 0.5 * (Math.log(2 * Math.PI) + logvar + (x - mu) ** 2 * Math.exp(-logvar));
  const shape = [3, 5, 7];
  const size = 105;
  const x = randomArray(size, 13, -2, 2);
  const mu = randomArray(size, 14, -1, 1);
  const logvar = randomArray(size, 15, -2, 2);
  const perElement = Array.from({ length: size }, (_, i) => nll(x[i]!, mu[i]!, logvar[i]!));

  it('matches float64 per element and reduced over channels', async () => {
    const [none, summed, meaned] = await g.tidyAsync(async () => {
      const args = [g.fromArray(rt, x, shape), g.fromArray(rt, mu, shape), g.fromArray(rt, logvar, shape)] as const;
      const outs = [g.gaussianNLL(...args, 'none'), g.gaussianNLL(...args, 'sum'), g.gaussianNLL(...args, 'mean')];
      expect(outs.map((t) => t.shape)).toEqual([shape, [3, 5], [3, 5]]);
      return Promise.all(outs.map((t) => t.read()));
    });
    expectClose(none!, perElement, 1e-4, 1e-6, 'none');
    const sums = Array.from({ length: 15 }, (_, p) => perElement.slice(p * 7, p * 7 + 7).reduce((a, b) => a + b, 0));
    expectClose(summed!, sums, 1e-4, 1e-5, 'sum');
    expectClose(meaned!, sums.map((s) => s / 7), 1e-4, 1e-5, 'mean');
  });

  it('broadcasts a per-channel log-variance', async () => {
    const perChannel = randomArray(7, 16, -1, 1);
    const got = await g.tidyAsync(async () =>
      g.gaussianNLL(g.fromArray(rt, x, shape), g.fromArray(rt, mu, shape), g.fromArray(rt, perChannel, [7]), 'none').read(),
    );
    expectClose(got, perElement.map((_, i) => nll(x[i]!, mu[i]!, perChannel[i % 7]!)), 1e-4, 1e-6);
  });

  it('has the finite-difference gradient in x, mean and log-variance', async () => {
    const s = [3, 5];
    await gradcheck(rt, (a, b, c) => g.gaussianNLL(a!, b!, c!, 'sum'), [
      { data: randomArray(15, 17, -1, 1), shape: s },
      { data: randomArray(15, 18, -1, 1), shape: s },
      { data: randomArray(15, 19, -1, 1), shape: s },
    ]);
  });

  it('names the shapes it rejects', () => {
    g.tidy(() => {
      expect(() => g.gaussianNLL(g.zeros(rt, [2, 3]), g.zeros(rt, [2, 4]), g.zeros(rt, [2, 3]))).toThrow(/gaussianNLL: .*\[2, 4\]/);
      expect(() => g.gaussianEnergy(g.zeros(rt, [2, 3]), g.zeros(rt, [2, 3]), g.zeros(rt, [5]), 'sum')).toThrow(/gaussianEnergy: .*\[5\]/);
    });
  });

  it('its energy term alone: 0.5 (x - mu)^2 exp(-logvar), per element and summed, with its gradient', async () => {
    const energy = (i: number) => 0.5 * (x[i]! - mu[i]!) ** 2 * Math.exp(-logvar[i]!);
    const [none, summed] = await g.tidyAsync(async () => {
      const args = [g.fromArray(rt, x, shape), g.fromArray(rt, mu, shape), g.fromArray(rt, logvar, shape)] as const;
      return Promise.all([g.gaussianEnergy(...args, 'none').read(), g.gaussianEnergy(...args, 'sum').read()]);
    });
    const perElementEnergy = Array.from({ length: size }, (_, i) => energy(i));
    expectClose(none!, perElementEnergy, 1e-4, 1e-6, 'none');
    expectClose(summed!, Array.from({ length: 15 }, (_, p) => perElementEnergy.slice(p * 7, p * 7 + 7).reduce((a, b) => a + b, 0)), 1e-4, 1e-5, 'sum');
    const s = [3, 5];
    await gradcheck(rt, (a, b, c) => g.gaussianEnergy(a!, b!, c!, 'sum'), [
      { data: randomArray(15, 27, -1, 1), shape: s },
      { data: randomArray(15, 28, -1, 1), shape: s },
      { data: randomArray(15, 29, -1, 1), shape: s },
    ]);
  });
});
