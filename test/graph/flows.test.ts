// Normalizing-flow layers: inverse(forward(x)) == x, log-determinants against float64 references (the
// invertible convolution's against an independent float64 determinant, the coupling's and the whole
// Glow's against finite-difference Jacobians), gradient checks in inputs and parameters, and a
// conditional Glow that learns two different 2-D densities with AdamW.
import { beforeAll, describe, expect, it } from 'vitest';
import * as g from '../../src/graph';
import { assignInPlace } from '../../src/graph/flows/flow';
import type { Runtime } from '../../src/gpu/runtime';
import { gradcheck } from '../helpers/gradcheck';
import { expectClose, randomArray, rng } from '../helpers/reference';
import { testRuntime } from '../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime();
});

const product = (shape: readonly number[]) => shape.reduce((p, d) => p * d, 1);

/** Replaces every parameter of a layer with random values (so no layer is near its identity start). */
function randomiseParameters(layer: { namedParameters(): Map<string, g.Tensor> }, seed: number, scale = 0.5): void {
  let k = 0;
  for (const p of layer.namedParameters().values()) {
    g.tidy(() => assignInPlace(p, g.fromArray(rt, randomArray(p.size, seed + k++, -scale, scale), p.shape)));
  }
}

/** log|det A| of a row-major c x c matrix in float64 (Gaussian elimination with partial pivoting). */
function logAbsDet(a: ArrayLike<number>, c: number): number {
  const m = Float64Array.from(a);
  let total = 0;
  for (let k = 0; k < c; k++) {
    let p = k;
    for (let i = k + 1; i < c; i++) if (Math.abs(m[i * c + k]!) > Math.abs(m[p * c + k]!)) p = i;
    for (let j = 0; j < c; j++) [m[k * c + j], m[p * c + j]] = [m[p * c + j]!, m[k * c + j]!];
    total += Math.log(Math.abs(m[k * c + k]!));
    for (let i = k + 1; i < c; i++) {
      const f = m[i * c + k]! / m[k * c + k]!;
      for (let j = k; j < c; j++) m[i * c + j]! -= f * m[k * c + j]!;
    }
  }
  return total;
}

/**
 * log|det J| per position of a channel-wise map f: [P, C] -> [P, C], from central differences. A flow
 * never mixes positions, so moving channel j at every position at once gives column j of every
 * position's Jacobian: 2C evaluations in all.
 */
async function finiteDifferenceLogdet(f: (x: g.Tensor) => g.Tensor, x: Float64Array, positions: number, c: number, eps = 1e-2): Promise<number[]> {
  const jacobians = Array.from({ length: positions }, () => new Float64Array(c * c));
  for (let j = 0; j < c; j++) {
    const at = (delta: number) =>
      g.tidyAsync(async () => {
        const moved = Float64Array.from(x);
        for (let p = 0; p < positions; p++) moved[p * c + j]! += delta;
        return g.noGrad(() => f(g.fromArray(rt, moved, [positions, c]))).read();
      });
    const [plus, minus] = [await at(eps), await at(-eps)];
    for (let p = 0; p < positions; p++) {
      for (let i = 0; i < c; i++) jacobians[p]![i * c + j] = (plus[p * c + i]! - minus[p * c + i]!) / (2 * eps);
    }
  }
  return jacobians.map((jac) => logAbsDet(jac, c));
}

/**
 * Finite-difference check of d(sum(w * f())) / d(parameter) for a layer's own parameters (which the
 * shared gradcheck cannot move, since they are not inputs of f): each element is moved in place.
 */
async function gradcheckParameters(params: Map<string, g.Tensor>, f: () => g.Tensor, eps = 1e-2, rtol = 2e-2, atol = 2e-3): Promise<void> {
  await g.tidyAsync(async () => {
    const probe = g.noGrad(f);
    const weights = g.fromArray(rt, randomArray(probe.size, 77, 0.5, 1.5), probe.shape);
    const loss = () => g.sum(g.mul(f(), weights));
    for (const p of params.values()) p.grad = null;
    g.backward(loss());
    for (const [name, p] of params) {
      const analytic = await p.grad!.read();
      const base = await p.read();
      for (let i = 0; i < base.length; i++) {
        const at = async (delta: number) => {
          const moved = Float32Array.from(base);
          moved[i] = moved[i]! + delta;
          rt.write(p.buffer, moved);
          return g.tidyAsync(async () => g.noGrad(loss).item());
        };
        const numeric = ((await at(eps)) - (await at(-eps))) / (2 * eps);
        rt.write(p.buffer, base);
        const tolerance = atol + rtol * Math.max(Math.abs(numeric), Math.abs(analytic[i]!));
        if (!(Math.abs(analytic[i]! - numeric) <= tolerance)) {
          expect.fail(`parameter ${name}, element ${i}: analytic gradient ${analytic[i]}, finite difference ${numeric}`);
        }
      }
      p.grad!.dispose();
      p.grad = null;
    }
  });
}

describe('ActNorm', () => {
  const shape = [3, 5, 7];
  const x = randomArray(product(shape), 1, -2, 3).map((v, i) => v * (1 + (i % 7)));

  it('initialises from its first batch to zero mean and unit variance per channel', async () => {
    const layer = new g.ActNorm(rt, 7);
    const [y, logdet] = await g.tidyAsync(async () => {
      const out = layer.forward(g.fromArray(rt, x, shape));
      expect(out.logdet.shape).toEqual([3, 5]);
      return Promise.all([out.y.read(), out.logdet.read()]);
    });
    expect(layer.initialized).toBe(true);
    let expectedLogdet = 0;
    const yMeans: number[] = [];
    const yVars: number[] = [];
    for (let c = 0; c < 7; c++) {
      const column = (v: ArrayLike<number>) => Array.from({ length: 15 }, (_, p) => v[p * 7 + c]!);
      const xs = column(x);
      const m = xs.reduce((a, b) => a + b, 0) / 15;
      expectedLogdet += -0.5 * Math.log(xs.reduce((a, b) => a + (b - m) ** 2, 0) / 15 + 1e-6);
      const ys = column(y!);
      const ym = ys.reduce((a, b) => a + b, 0) / 15;
      yMeans.push(ym);
      yVars.push(ys.reduce((a, b) => a + (b - ym) ** 2, 0) / 15);
    }
    expectClose(yMeans, new Array(7).fill(0), 0, 1e-5, 'means');
    expectClose(yVars, new Array(7).fill(1), 1e-4, 0, 'variances');
    expectClose(logdet!, new Array(15).fill(expectedLogdet), 1e-5, 1e-6, 'logdet');
    layer.dispose();
  });

  it('with a condition: matches float64, inverts to 1e-4, and its logdet is per position', async () => {
    const [cc, c] = [3, 7];
    const cond = randomArray(15 * cc, 2);
    const layer = new g.ActNorm(rt, c, { conditionChannels: cc });
    randomiseParameters(layer, 10);
    layer.initialized = true;
    const [logScale, bias, scaleWeight, shiftWeight] = await Promise.all(
      [layer.logScale, layer.bias, layer.conditionScale!, layer.conditionShift!].map((t) => t.read()),
    );
    const [y, logdet, back] = await g.tidyAsync(async () => {
      const condition = g.fromArray(rt, cond, [3, 5, cc]);
      const out = layer.forward(g.fromArray(rt, x, shape), condition);
      return Promise.all([out.y.read(), out.logdet.read(), layer.inverse(out.y, condition).read()]);
    });
    const refY: number[] = [];
    const refLogdet: number[] = [];
    for (let p = 0; p < 15; p++) {
      let total = 0;
      for (let j = 0; j < c; j++) {
        let s = logScale[j]!;
        let b = bias[j]!;
        for (let k = 0; k < cc; k++) {
          s += cond[p * cc + k]! * scaleWeight![k * c + j]!;
          b += cond[p * cc + k]! * shiftWeight![k * c + j]!;
        }
        refY.push(x[p * c + j]! * Math.exp(s) + b);
        total += s;
      }
      refLogdet.push(total);
    }
    expectClose(y!, refY, 1e-4, 1e-5, 'y');
    expectClose(logdet!, refLogdet, 1e-4, 1e-5, 'logdet');
    expectClose(back!, x, 1e-4, 1e-4, 'inverse(forward(x))');
    layer.dispose();
  });

  it('has finite-difference gradients in x, the condition and every parameter', async () => {
    const layer = new g.ActNorm(rt, 3, { conditionChannels: 2 });
    randomiseParameters(layer, 20);
    layer.initialized = true;
    const xs = { data: randomArray(12, 3), shape: [4, 3] };
    const cs = { data: randomArray(8, 4), shape: [4, 2] };
    const both = (out: g.FlowOutput) => g.concat([out.y, g.reshape(out.logdet, [4, 1])], 1);
    await gradcheck(rt, (a, b) => both(layer.forward(a!, b!)), [xs, cs]);
    await gradcheckParameters(layer.namedParameters(), () =>
      both(layer.forward(g.fromArray(rt, xs.data, xs.shape), g.fromArray(rt, cs.data, cs.shape))),
    );
    layer.dispose();
  });

  it('names the shapes it rejects', () => {
    const layer = new g.ActNorm(rt, 3, { conditionChannels: 2 });
    g.tidy(() => {
      expect(() => layer.forward(g.zeros(rt, [4, 5]), g.zeros(rt, [4, 2]))).toThrow(/ActNorm: input \[4, 5\] must be channels-last with 3 channels/);
      expect(() => layer.forward(g.zeros(rt, [4, 3]), g.zeros(rt, [5, 2]))).toThrow(/condition \[5, 2\] must be \[4, 2\]/);
      expect(() => layer.forward(g.zeros(rt, [4, 3]))).toThrow(/needs a condition/);
    });
    layer.dispose();
  });
});

describe('InvertibleConv1x1', () => {
  it('starts as a rotation built from its P L U factors', async () => {
    const c = 5;
    const layer = new g.InvertibleConv1x1(rt, c, { seed: 3 });
    const w = await g.tidyAsync(async () => layer.weight().read());
    const gram = Array.from({ length: c * c }, (_, k) => {
      const [i, j] = [Math.floor(k / c), k % c];
      return Array.from({ length: c }, (_, t) => w[i * c + t]! * w[j * c + t]!).reduce((a, b) => a + b, 0);
    });
    expectClose(gram, Array.from({ length: c * c }, (_, k) => (Math.floor(k / c) === k % c ? 1 : 0)), 0, 1e-5, 'W Wᵀ');
    layer.dispose();
  });

  for (const [c, shape] of [[7, [3, 5, 7]], [32, [2, 3, 1, 5, 32]]] as [number, number[]][]) {
    it(`C = ${c}, input ${JSON.stringify(shape)}: y = W x, logdet = log|det W| in float64, inverse to 1e-4`, async () => {
      const layer = new g.InvertibleConv1x1(rt, c, { seed: c });
      // Away from the rotation it starts at, so the determinant and the inverse are not trivial.
      randomiseParameters(layer, 30, 0.3);
      const positions = product(shape) / c;
      const x = randomArray(product(shape), 5, -2, 2);
      const [w, y, logdet, back] = await g.tidyAsync(async () => {
        const out = layer.forward(g.fromArray(rt, x, shape));
        expect(out.logdet.shape).toEqual(shape.slice(0, -1));
        return Promise.all([layer.weight().read(), out.y.read(), out.logdet.read(), layer.inverse(out.y).read()]);
      });
      const refY = Array.from({ length: positions * c }, (_, k) => {
        const [p, i] = [Math.floor(k / c), k % c];
        return Array.from({ length: c }, (_, j) => w[i * c + j]! * x[p * c + j]!).reduce((a, b) => a + b, 0);
      });
      expectClose(y!, refY, 1e-4, 1e-5, 'y');
      expectClose(logdet!, new Array(positions).fill(logAbsDet(w!, c)), 1e-4, 1e-5, 'logdet');
      expectClose(back!, x, 1e-4, 1e-4, 'inverse(forward(x))');
      layer.dispose();
    });
  }

  it('has finite-difference gradients in x and in L, U and log s', async () => {
    const layer = new g.InvertibleConv1x1(rt, 3, { seed: 1 });
    randomiseParameters(layer, 40);
    const xs = { data: randomArray(12, 6), shape: [4, 3] };
    const both = (out: g.FlowOutput) => g.concat([out.y, g.reshape(out.logdet, [4, 1])], 1);
    await gradcheck(rt, (a) => both(layer.forward(a!)), [xs]);
    await gradcheckParameters(layer.namedParameters(), () => both(layer.forward(g.fromArray(rt, xs.data, xs.shape))));
    layer.dispose();
  });
});

describe('AffineCoupling', () => {
  it('inverts to 1e-4 and its logdet is the log-Jacobian from finite differences', async () => {
    const [c, cc, positions] = [5, 2, 6];
    const layer = new g.AffineCoupling(rt, c, { conditionChannels: cc, hidden: 8, seed: 2 });
    randomiseParameters(layer, 50);
    const x = randomArray(positions * c, 7, -1, 1);
    const cond = randomArray(positions * cc, 8, -1, 1);
    const [y, logdet, back] = await g.tidyAsync(async () => {
      const condition = g.fromArray(rt, cond, [positions, cc]);
      const out = layer.forward(g.fromArray(rt, x, [positions, c]), condition);
      return Promise.all([out.y.read(), out.logdet.read(), layer.inverse(out.y, condition).read()]);
    });
    expectClose(back, x, 1e-4, 1e-4, 'inverse(forward(x))');
    // The first floor(C / 2) channels pass through unchanged.
    for (let p = 0; p < positions; p++) expectClose(y!.slice(p * c, p * c + 2), Float32Array.from(x.slice(p * c, p * c + 2)), 0, 0, 'pass-through half');
    const fd = await g.tidyAsync(async () => {
      const condition = g.fromArray(rt, cond, [positions, cc]);
      return finiteDifferenceLogdet((xt) => layer.forward(xt, condition).y, x, positions, c);
    });
    expectClose(logdet!, fd, 0, 2e-3, 'logdet against finite differences');
    layer.dispose();
  });

  it('has finite-difference gradients in x, the condition and every parameter', async () => {
    const layer = new g.AffineCoupling(rt, 3, { conditionChannels: 2, hidden: 3, seed: 4 });
    randomiseParameters(layer, 60);
    const xs = { data: randomArray(9, 9), shape: [3, 3] };
    const cs = { data: randomArray(6, 10), shape: [3, 2] };
    const both = (out: g.FlowOutput) => g.concat([out.y, g.reshape(out.logdet, [3, 1])], 1);
    await gradcheck(rt, (a, b) => both(layer.forward(a!, b!)), [xs, cs]);
    await gradcheckParameters(layer.namedParameters(), () =>
      both(layer.forward(g.fromArray(rt, xs.data, xs.shape), g.fromArray(rt, cs.data, cs.shape))),
    );
    layer.dispose();
  });
});

describe('ConditionalGlow', () => {
  it('on a [N, D, H, W, C] map: inverts to 1e-4, logdet from finite differences, NLL from z and logdet', async () => {
    const [c, cc] = [4, 3];
    const shape = [1, 3, 2, 3, c];
    const positions = 18;
    const glow = new g.ConditionalGlow(rt, c, { conditionChannels: cc, blocks: 3, hidden: 8, seed: 5 });
    const x = randomArray(positions * c, 11, -2, 2);
    const cond = randomArray(positions * cc, 12, -1, 1);
    // A first forward initialises the ActNorms; then every parameter is moved off its start.
    g.tidy(() => glow.forward(g.fromArray(rt, x, shape), g.fromArray(rt, cond, [1, 3, 2, 3, cc])));
    randomiseParameters(glow, 70, 0.3);
    const [z, logdet, nll, energy, back] = await g.tidyAsync(async () => {
      const condition = g.fromArray(rt, cond, [1, 3, 2, 3, cc]);
      const xt = g.fromArray(rt, x, shape);
      const out = glow.forward(xt, condition);
      expect(out.logdet.shape).toEqual([1, 3, 2, 3]);
      const energy = glow.energy(xt, condition);
      expect(energy.shape).toEqual([1, 3, 2, 3]);
      return Promise.all([out.y.read(), out.logdet.read(), glow.nll(xt, condition).read(), energy.read(), glow.inverse(out.y, condition).read()]);
    });
    expectClose(back!, x, 1e-4, 1e-4, 'inverse(forward(x))');
    const refEnergy = Array.from({ length: positions }, (_, p) => 0.5 * Array.from({ length: c }, (_, j) => z![p * c + j]! ** 2).reduce((a, b) => a + b, 0));
    const refNll = refEnergy.map((e, p) => e + 0.5 * c * Math.log(2 * Math.PI) - logdet![p]!);
    expectClose(nll!, refNll, 1e-4, 1e-5, 'nll');
    expectClose(energy!, refEnergy, 1e-4, 1e-5, 'energy');
    const fd = await g.tidyAsync(async () => {
      const condition = g.fromArray(rt, cond, [positions, cc]);
      return finiteDifferenceLogdet((xt) => glow.forward(xt, condition).y, x, positions, c);
    });
    expectClose(logdet!, fd, 0, 3e-3, 'logdet against finite differences');
    glow.dispose();
  });

  it('its NLL and its energy have finite-difference gradients in x and the condition', async () => {
    const glow = new g.ConditionalGlow(rt, 2, { conditionChannels: 2, blocks: 2, hidden: 4, seed: 6 });
    const xs = { data: randomArray(8, 13), shape: [4, 2] };
    const cs = { data: randomArray(8, 14), shape: [4, 2] };
    g.tidy(() => glow.forward(g.fromArray(rt, xs.data, xs.shape), g.fromArray(rt, cs.data, cs.shape)));
    randomiseParameters(glow, 80, 0.3);
    await gradcheck(rt, (a, b) => glow.nll(a!, b!), [xs, cs]);
    await gradcheck(rt, (a, b) => glow.energy(a!, b!), [xs, cs]);
    glow.dispose();
  });

  it('learns two label-conditioned 2-D densities with AdamW (NLL falls, inverse stays exact)', async () => {
    // Label 0: a mixture of two Gaussians at (-1.5, 0) and (1.5, 0); label 1: a ring of radius 1.5.
    const perLabel = 64;
    const next = rng(15);
    const normal = () => Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
    const points: number[] = [];
    const labels: number[] = [];
    for (let i = 0; i < 2 * perLabel; i++) {
      const label = i < perLabel ? 0 : 1;
      if (label === 0) points.push((next() < 0.5 ? -1.5 : 1.5) + 0.3 * normal(), 0.3 * normal());
      else {
        const angle = 2 * Math.PI * next();
        const r = 1.5 + 0.15 * normal();
        points.push(r * Math.cos(angle), r * Math.sin(angle));
      }
      labels.push(label === 0 ? 1 : 0, label === 0 ? 0 : 1);
    }
    const n = 2 * perLabel;
    const x = g.keep(g.fromArray(rt, points, [n, 2]));
    const condition = g.keep(g.fromArray(rt, labels, [n, 2]));
    const glow = new g.ConditionalGlow(rt, 2, { conditionChannels: 2, blocks: 3, hidden: 16, seed: 7 });
    const optimiser = new g.AdamW(glow.namedParameters(), { lr: 1e-2, weightDecay: 0 });
    // Sized for the software adapter: about 10 s in Node. The NLL starts near 2.9 nats (ActNorm's
    // data initialisation makes the start a standardised Gaussian fit) and reaches about 1.8.
    const steps = 80;
    const losses: number[] = [];
    for (let step = 0; step < steps; step++) {
      const loss = g.tidy(() => {
        const l = g.mean(glow.nll(x, condition));
        g.backward(l);
        optimiser.step();
        optimiser.zeroGrad();
        return l;
      });
      if (step < 5 || step >= steps - 5) losses.push(await loss.item());
      loss.dispose();
    }
    const first = losses.slice(0, 5).reduce((a, b) => a + b, 0) / 5;
    const last = losses.slice(5).reduce((a, b) => a + b, 0) / 5;
    const [swapped, back, sampledZ, drawnZ] = await g.tidyAsync(async () => {
      // The learnt model must use its label: the same points scored under the other label fit worse.
      const other = g.affine(condition, -1, 1);
      // sample() maps the seed's normal draw through the inverse: forward() must give the draw back.
      const sampled = glow.sample([n], 21, condition);
      return Promise.all([
        g.mean(glow.nll(x, other)).item(),
        glow.inverse(glow.forward(x, condition).y, condition).read(),
        glow.forward(sampled, condition).y.read(),
        g.randomNormal(rt, [n, 2], 21).read(),
      ]);
    });
    expect(last, `mean NLL over the first 5 steps ${first}, last 5 ${last}`).toBeLessThan(first - 0.5);
    expect(swapped, `NLL with the labels swapped ${swapped}, with the right ones ${last}`).toBeGreaterThan(last + 1);
    expectClose(back!, points, 1e-4, 1e-4, 'inverse(forward(x)) after training');
    expectClose(sampledZ!, drawnZ!, 1e-4, 1e-4, 'forward(sample(seed)) against the seed\'s normal draw');
    optimiser.dispose();
    glow.dispose();
    x.dispose();
    condition.dispose();
  });
});
