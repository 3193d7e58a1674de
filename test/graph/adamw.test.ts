// AdamW's fused kernel against a float64 AdamW over several steps, its checkpoint state, and
// gradient-norm clipping against a float64 norm.
import { beforeAll, describe, expect, it } from 'vitest';
import * as g from '../../src/graph';
import type { Runtime } from '../../src/gpu/runtime';
import { expectClose, randomArray } from '../helpers/reference';
import { testRuntime } from '../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime();
});

interface Settings {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

/** torch.optim.AdamW's update, in float64. */
function referenceStep(p: Float64Array, grad: ArrayLike<number>, m: Float64Array, v: Float64Array, t: number, o: Settings): void {
  for (let i = 0; i < p.length; i++) {
    p[i]! *= 1 - o.lr * o.weightDecay;
    m[i] = o.beta1 * m[i]! + (1 - o.beta1) * grad[i]!;
    v[i] = o.beta2 * v[i]! + (1 - o.beta2) * grad[i]! ** 2;
    const mHat = m[i]! / (1 - o.beta1 ** t);
    const vHat = v[i]! / (1 - o.beta2 ** t);
    p[i]! -= (o.lr * mHat) / (Math.sqrt(vHat) + o.eps);
  }
}

const shapes = [[3, 5, 7], [13], [1]];
const gradientAt = (step: number, k: number) => Float32Array.from(randomArray(shapes[k]!.reduce((a, b) => a * b, 1), 1000 * step + k, -2, 2));

function makeParams(): g.Tensor[] {
  return shapes.map((shape, k) => g.parameter(rt, randomArray(shape.reduce((a, b) => a * b, 1), 50 + k), shape));
}

function setGradients(params: g.Tensor[], step: number): void {
  params.forEach((p, k) => {
    p.grad?.dispose();
    p.grad = g.keep(g.fromArray(rt, gradientAt(step, k), p.shape));
  });
}

describe('AdamW', () => {
  it('matches float64 AdamW over several steps, with PyTorch defaults and with other settings', async () => {
    const settingsList: Settings[] = [
      { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 },
      { lr: 0.05, beta1: 0.8, beta2: 0.99, eps: 1e-3, weightDecay: 0.3 },
    ];
    for (const [index, settings] of settingsList.entries()) {
      const params = makeParams();
      const optimizer = index === 0 ? new g.AdamW(params) : new g.AdamW(params, settings);
      expect([optimizer.lr, optimizer.beta1, optimizer.beta2, optimizer.eps, optimizer.weightDecay]).toEqual(Object.values(settings));
      const ref = shapes.map((shape, k) => ({
        p: randomArray(shape.reduce((a, b) => a * b, 1), 50 + k),
        m: new Float64Array(shape.reduce((a, b) => a * b, 1)),
        v: new Float64Array(shape.reduce((a, b) => a * b, 1)),
      }));
      for (let step = 1; step <= 6; step++) {
        setGradients(params, step);
        optimizer.step();
        ref.forEach((r, k) => referenceStep(r.p, gradientAt(step, k), r.m, r.v, step, settings));
      }
      for (let k = 0; k < params.length; k++) {
        expectClose(await params[k]!.read(), ref[k]!.p, 1e-5, 1e-6, `parameter ${k}`);
        const state = optimizer.getState().params.get(String(k))!;
        expect(state.step).toBe(6);
        expectClose(await state.m.read(), ref[k]!.m, 1e-5, 1e-6, `m ${k}`);
        expectClose(await state.v.read(), ref[k]!.v, 1e-5, 1e-7, `v ${k}`);
      }
      optimizer.zeroGrad();
      expect(params.every((p) => p.grad === null)).toBe(true);
      optimizer.dispose();
      params.forEach((p) => p.dispose());
    }
  });

  it('skips parameters without a gradient, as PyTorch does', async () => {
    const params = makeParams();
    const before = await params[1]!.read();
    const optimizer = new g.AdamW(params, { lr: 0.1 });
    setGradients(params, 1);
    params[1]!.grad!.dispose();
    params[1]!.grad = null;
    optimizer.step();
    expect(await params[1]!.read()).toEqual(before);
    expect(optimizer.getState().params.has('1')).toBe(false);
    expect(optimizer.getState().params.get('0')!.step).toBe(1);
    optimizer.zeroGrad();
    optimizer.dispose();
    params.forEach((p) => p.dispose());
  });

  it('resumes from a saved state exactly as if never interrupted, keyed by parameter name', async () => {
    const named = (params: g.Tensor[]) => new Map(params.map((p, k) => [`layer${k}.weight`, p]));
    const settings = { lr: 0.02, weightDecay: 0.1 };
    // Uninterrupted: five steps.
    const straight = makeParams();
    const a = new g.AdamW(named(straight), settings);
    for (let step = 1; step <= 5; step++) {
      setGradients(straight, step);
      a.step();
    }
    // Interrupted after three: parameters and optimiser state read to the CPU, loaded into fresh ones.
    const first = makeParams();
    const b = new g.AdamW(named(first), settings);
    for (let step = 1; step <= 3; step++) {
      setGradients(first, step);
      b.step();
    }
    const saved = b.getState();
    const savedValues = new Map<string, { step: number; m: Float32Array; v: Float32Array }>();
    for (const [name, s] of saved.params) savedValues.set(name, { step: s.step, m: await s.m.read(), v: await s.v.read() });
    const savedParams = await Promise.all(first.map((p) => p.read()));
    const resumed = shapes.map((shape, k) => g.parameter(rt, savedParams[k]!, shape));
    const c = new g.AdamW(named(resumed), settings);
    c.loadState({ step: saved.step, params: savedValues });
    expect(c.stepCount).toBe(3);
    for (let step = 4; step <= 5; step++) {
      setGradients(resumed, step);
      c.step();
    }
    for (let k = 0; k < shapes.length; k++) expect(await resumed[k]!.read()).toEqual(await straight[k]!.read());
    expect(() => c.loadState({ step: 0, params: new Map([['nope', savedValues.get('layer0.weight')!]]) })).toThrow(/no parameter named "nope"/);
    for (const opt of [a, b, c]) {
      opt.zeroGrad();
      opt.dispose();
    }
    [...straight, ...first, ...resumed].forEach((p) => p.dispose());
  });

  it('keeps a step count per parameter: one that first gets a gradient later starts its own bias correction', async () => {
    const settings = { lr: 0.05, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };
    const params = makeParams();
    const optimizer = new g.AdamW(params, settings);
    const ref = shapes.map((shape, k) => {
      const n = shape.reduce((a, b) => a * b, 1);
      return { p: randomArray(n, 50 + k), m: new Float64Array(n), v: new Float64Array(n), t: 0 };
    });
    for (let step = 1; step <= 4; step++) {
      setGradients(params, step);
      // The middle parameter has no gradient in the first two steps: three runs of different step counts.
      if (step <= 2) {
        params[1]!.grad!.dispose();
        params[1]!.grad = null;
      }
      optimizer.step();
      ref.forEach((r, k) => {
        if (k === 1 && step <= 2) return;
        referenceStep(r.p, gradientAt(step, k), r.m, r.v, ++r.t, settings);
      });
    }
    const state = optimizer.getState();
    expect([...state.params.values()].map((s) => s.step)).toEqual([4, 2, 4]);
    for (let k = 0; k < params.length; k++) {
      expectClose(await params[k]!.read(), ref[k]!.p, 1e-5, 1e-6, `parameter ${k}`);
      expectClose(await state.params.get(String(k))!.m.read(), ref[k]!.m, 1e-5, 1e-6, `m ${k}`);
    }
    optimizer.zeroGrad();
    optimizer.dispose();
    params.forEach((p) => p.dispose());
  });

  it('folds gradient-norm clipping in: the float64 norm, clipped updates, and the gradients left as they are', async () => {
    const settings = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01 };
    for (const maxGradNorm of [0.5, 1000]) {
      await g.tidyAsync(async () => {
        const params = makeParams();
        const optimizer = new g.AdamW(params, settings);
        const ref = shapes.map((shape, k) => {
          const n = shape.reduce((a, b) => a * b, 1);
          return { p: randomArray(n, 50 + k), m: new Float64Array(n), v: new Float64Array(n) };
        });
        for (let step = 1; step <= 3; step++) {
          setGradients(params, step);
          const grads = shapes.map((_, k) => gradientAt(step, k));
          const expectedNorm = Math.sqrt(grads.reduce((t, gr) => t + gr.reduce((s, v) => s + v * v, 0), 0));
          const factor = Math.min(1, maxGradNorm / (expectedNorm + 1e-6));
          const norm = optimizer.step({ maxGradNorm })!;
          expect(Math.abs((await norm.item()) - expectedNorm) / expectedNorm).toBeLessThan(1e-5);
          expect(await params[2]!.grad!.read()).toEqual(grads[2]);
          ref.forEach((r, k) => referenceStep(r.p, Array.from(grads[k]!, (v) => v * factor), r.m, r.v, step, settings));
        }
        for (let k = 0; k < params.length; k++) expectClose(await params[k]!.read(), ref[k]!.p, 1e-5, 1e-6, `parameter ${k}, maxGradNorm ${maxGradNorm}`);
        // A bad limit fails before the step is counted or any parameter moves.
        const before = await params[0]!.read();
        expect(() => optimizer.step({ maxGradNorm: 0 })).toThrow(/maxNorm must be positive/);
        expect(optimizer.stepCount).toBe(3);
        expect(optimizer.getState().params.get('0')!.step).toBe(3);
        expect(await params[0]!.read()).toEqual(before);
        optimizer.zeroGrad();
        optimizer.dispose();
        params.forEach((p) => p.dispose());
      });
    }
  });

  it('rejects bad options', () => {
    expect(() => new g.AdamW([], { beta1: 1 })).toThrow(/beta1/);
    expect(() => new g.AdamW([], { lr: -1 })).toThrow(/lr/);
  });
});

describe('clipGradNorm', () => {
  const sizes = [[5, 7], [3], [10007]]; // the last spans several partial sums

  async function run(maxNorm: number, scale: number) {
    return g.tidyAsync(async () => {
      const grads = sizes.map((shape, k) => Float64Array.from(randomArray(shape.reduce((a, b) => a * b, 1), 70 + k), (v) => v * scale));
      const params = sizes.map((shape) => g.zeros(rt, shape, { requiresGrad: true }));
      params.forEach((p, k) => (p.grad = g.fromArray(rt, grads[k]!, sizes[k]!)));
      const norm = g.clipGradNorm(params, maxNorm);
      expect(norm.shape).toEqual([1]);
      const clipped = await Promise.all(params.map((p) => p.grad!.read()));
      return { grads, norm: await norm.item(), clipped };
    });
  }

  it('returns the float64 norm and rescales the gradients to maxNorm', async () => {
    const { grads, norm, clipped } = await run(0.5, 1);
    const expectedNorm = Math.sqrt(grads.reduce((total, gr) => total + gr.reduce((s, v) => s + v * v, 0), 0));
    expect(Math.abs(norm - expectedNorm) / expectedNorm).toBeLessThan(1e-5);
    const factor = 0.5 / (expectedNorm + 1e-6);
    grads.forEach((gr, k) => expectClose(clipped[k]!, gr.map((v) => v * factor), 1e-5, 1e-7, `gradient ${k}`));
    const after = Math.sqrt(clipped.reduce((t, c) => t + c.reduce((s, v) => s + v * v, 0), 0));
    expect(Math.abs(after - 0.5)).toBeLessThan(1e-5);
  });

  it('leaves gradients under the limit unchanged', async () => {
    const { grads, clipped } = await run(1000, 0.01);
    grads.forEach((gr, k) => expect(clipped[k]).toEqual(Float32Array.from(gr)));
  });

  it('counts a shared gradient once per parameter but scales it once', async () => {
    await g.tidyAsync(async () => {
      const shared = g.fromArray(rt, [3, 4], [2]); // norm 5 per parameter
      const a = g.zeros(rt, [2], { requiresGrad: true });
      const b = g.zeros(rt, [2], { requiresGrad: true });
      a.grad = shared;
      b.grad = shared;
      const norm = await g.clipGradNorm([a, b], 1).item();
      expect(Math.abs(norm - 5 * Math.SQRT2)).toBeLessThan(1e-5);
      expectClose(await shared.read(), [3 / (5 * Math.SQRT2), 4 / (5 * Math.SQRT2)], 1e-5, 1e-7, 'shared gradient');
    });
  });

  it('measures without clipping through gradNorm, and rejects a bad limit', async () => {
    await g.tidyAsync(async () => {
      const p = g.zeros(rt, [4], { requiresGrad: true });
      p.grad = g.fromArray(rt, [1, 2, 2, 4], [4]);
      expect(await g.gradNorm([p]).item()).toBeCloseTo(5, 5);
      expect(await p.grad.read()).toEqual(Float32Array.from([1, 2, 2, 4]));
      expect(() => g.clipGradNorm([p], 0)).toThrow(/maxNorm/);
    });
  });
});
