// nn modules: parameter names and state, seeded initialisation, and each layer against a float64
// reference of what it computes; a gradient check through a module; a tiny model that trains.
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

/** A block of the kind Screener's UNet stacks: conv, norm, activation. */
class Block extends g.Module {
  readonly conv: g.Conv3d;
  readonly norm: g.GroupNorm;
  constructor(runtime: Runtime, inChannels: number, outChannels: number, seed: number) {
    super();
    this.conv = this.registerModule('conv', new g.Conv3d(runtime, inChannels, outChannels, 3, { padding: 1, seed }));
    this.norm = this.registerModule('norm', new g.GroupNorm(runtime, 2, outChannels));
  }
  forward(x: g.Tensor): g.Tensor {
    return g.relu(this.norm.forward(this.conv.forward(x)));
  }
}

class Net extends g.Module {
  readonly encoder: g.Sequential;
  readonly head: g.Linear;
  constructor(runtime: Runtime, seed: number) {
    super();
    this.encoder = this.registerModule('encoder', new g.Sequential(new Block(runtime, 1, 4, g.deriveSeed(seed, 0)), new Block(runtime, 4, 4, g.deriveSeed(seed, 1))));
    this.head = this.registerModule('head', new g.Linear(runtime, 4, 3, true, { seed: g.deriveSeed(seed, 2) }));
    this.registerBuffer('calls', g.zeros(runtime, [1]));
  }
  forward(x: g.Tensor): g.Tensor {
    return this.head.forward(this.encoder.forward(x));
  }
}

const readAll = async (m: g.Module) => {
  const out = new Map<string, Float32Array>();
  for (const [name, t] of m.stateDict()) out.set(name, await t.read());
  return out;
};

describe('Module', () => {
  it('names parameters by dotted path, in registration order, and tells them from buffers', () => {
    const net = new Net(rt, 1);
    const names = [...net.namedParameters().keys()];
    expect(names).toEqual([
      'encoder.0.conv.weight', 'encoder.0.conv.bias', 'encoder.0.norm.weight', 'encoder.0.norm.bias',
      'encoder.1.conv.weight', 'encoder.1.conv.bias', 'encoder.1.norm.weight', 'encoder.1.norm.bias',
      'head.weight', 'head.bias',
    ]);
    expect([...net.stateDict().keys()]).toEqual(['calls', ...names]);
    expect(net.parameters()).toHaveLength(10);
    expect(net.parameters().every((p) => p.requiresGrad)).toBe(true);
    expect(net.namedParameters().get('encoder.1.conv.weight')!.shape).toEqual([4, 3, 3, 3, 4]);
    expect([...net.namedModules().keys()]).toEqual(['', 'encoder', 'encoder.0', 'encoder.0.conv', 'encoder.0.norm', 'encoder.1', 'encoder.1.conv', 'encoder.1.norm', 'head']);
    net.dispose();
  });

  it('lists a shared parameter once', () => {
    class Tied extends g.Module {
      constructor(runtime: Runtime) {
        super();
        const a = this.registerModule('a', new g.Linear(runtime, 2, 2, false, { seed: 1 }));
        const b = this.registerModule('b', new g.Sequential());
        b.append(a);
      }
    }
    const tied = new Tied(rt);
    expect([...tied.namedParameters().keys()]).toEqual(['a.weight']);
    tied.dispose();
  });

  it('switches train and eval mode recursively', () => {
    const net = new Net(rt, 1);
    expect([...net.namedModules().values()].every((m) => m.training)).toBe(true);
    net.eval();
    expect([...net.namedModules().values()].some((m) => m.training)).toBe(false);
    net.train();
    expect(net.encoder.at(1).training).toBe(true);
    net.dispose();
  });

  it('stateDict and loadState round-trip a model into a differently initialised one', async () => {
    const a = new Net(rt, 1);
    const b = new Net(rt, 2);
    const valuesA = await readAll(a);
    const valuesB = await readAll(b);
    expect(valuesB.get('head.weight')).not.toEqual(valuesA.get('head.weight'));
    const headWeight = b.head.weight;
    b.loadState(a.stateDict());
    expect(await readAll(b)).toEqual(valuesA);
    expect(b.head.weight).toBe(headWeight); // copied into, not replaced: optimisers stay valid
    // From CPU values, as a checkpoint reader gives them (a plain object works too).
    b.loadState(Object.fromEntries(valuesB));
    expect(await readAll(b)).toEqual(valuesB);
    a.dispose();
    b.dispose();
  });

  it('loadState names what does not match', () => {
    const net = new Net(rt, 1);
    const state = new Map<string, g.Tensor | ArrayLike<number>>(net.stateDict());
    state.delete('head.bias');
    state.set('head.scale', [1]);
    expect(() => net.loadState(state)).toThrow(/missing head\.bias; unexpected head\.scale/);
    expect(() => net.loadState(new Map([['head.bias', [1, 2]]]), { strict: false })).toThrow(/head\.bias has 2 values/);
    expect(() => net.loadState(new Map([['head.bias', g.zeros(rt, [4])]]), { strict: false })).toThrow(/head\.bias has shape \[4\]/);
    net.dispose();
  });

  it('rejects duplicate and dotted names', () => {
    class Bad extends g.Module {
      constructor(name: string, twice: boolean) {
        super();
        this.registerBuffer(name, g.zeros(rt, [1]));
        if (twice) this.registerBuffer(name, g.zeros(rt, [1]));
      }
    }
    expect(() => new Bad('a.b', false)).toThrow(/not a valid name/);
    expect(() => new Bad('a', true)).toThrow(/already registered/);
  });
});

describe('initialisation', () => {
  it('the same seed gives the same model; another seed another', async () => {
    const a = new Net(rt, 7);
    const b = new Net(rt, 7);
    const c = new Net(rt, 8);
    expect(await readAll(b)).toEqual(await readAll(a));
    expect((await readAll(c)).get('encoder.0.conv.weight')).not.toEqual((await readAll(a)).get('encoder.0.conv.weight'));
    [a, b, c].forEach((m) => m.dispose());
  });

  it('manualSeed restarts the stream that unseeded modules draw from', async () => {
    g.manualSeed(123);
    const a = new g.MLP(rt, [3, 5, 2]);
    const a2 = new g.Linear(rt, 3, 4);
    g.manualSeed(123);
    const b = new g.MLP(rt, [3, 5, 2]);
    const b2 = new g.Linear(rt, 3, 4);
    expect(await readAll(b)).toEqual(await readAll(a));
    expect(await readAll(b2)).toEqual(await readAll(a2));
    expect(await a2.weight.read()).not.toEqual((await readAll(a)).get('0.weight')!.subarray(0, 12));
    [a, a2, b, b2].forEach((m) => m.dispose());
  });

  it('follows PyTorch: Kaiming-uniform(a = sqrt 5) weights and U(+-1/sqrt fan_in) biases', async () => {
    const cases: [g.Module & { weight: g.Tensor; bias: g.Tensor | null }, number][] = [
      [new g.Linear(rt, 300, 201, true, { seed: 5 }), 300],
      [new g.Conv3d(rt, 7, 250, [3, 2, 5], { seed: 6 }), 7 * 30],
    ];
    for (const [layer, fanIn] of cases) {
      const bound = 1 / Math.sqrt(fanIn);
      for (const [name, t] of [['weight', layer.weight], ['bias', layer.bias!]] as const) {
        const v = await t.read();
        const mean = v.reduce((s, x) => s + x, 0) / v.length;
        const variance = v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length;
        expect(Math.max(...v.map(Math.abs)), `${name} within the bound`).toBeLessThanOrEqual(bound);
        expect(Math.max(...v.map(Math.abs)), `${name} fills the bound`).toBeGreaterThan(bound * (1 - 20 / v.length));
        expect(Math.abs(mean), `${name} mean`).toBeLessThan(5 * bound * Math.sqrt(1 / (3 * v.length)));
        if (v.length > 10_000) expect(Math.abs(variance / (bound * bound / 3) - 1), `${name} variance`).toBeLessThan(0.03);
      }
      layer.dispose();
    }
  });

  it('Conv3d refuses a kernel extent that is not a positive integer, on every axis', () => {
    for (const kernel of [[0, 3, 3], [3, 0, 3], [3, 3, 0], [3, 3, 1.5]] as [number, number, number][]) {
      expect(() => new g.Conv3d(rt, 2, 2, kernel), JSON.stringify(kernel)).toThrow(/Conv3d: kernel must be a positive integer/);
    }
  });
});

describe('layers against float64 references', () => {
  it('Linear on the last axis of a rank-3 input, with and without bias', async () => {
    for (const bias of [true, false]) {
      const layer = new g.Linear(rt, 7, 5, bias, { seed: 11 });
      const x = randomArray(3 * 4 * 7, 12);
      const [w, b, y] = await g.tidyAsync(async () => [
        await layer.weight.read(),
        bias ? await layer.bias!.read() : new Float32Array(5),
        await layer.forward(g.fromArray(rt, x, [3, 4, 7])).read(),
      ]);
      const expected = new Float64Array(3 * 4 * 5);
      for (let r = 0; r < 12; r++) {
        for (let o = 0; o < 5; o++) {
          let s = b[o]!;
          for (let i = 0; i < 7; i++) s += x[r * 7 + i]! * w[o * 7 + i]!;
          expected[r * 5 + o] = s;
        }
      }
      expectClose(y, expected, 1e-4, 1e-6, `Linear (bias ${bias})`);
      expect(() => layer.forward(g.zeros(rt, [2, 6]))).toThrow(/must end in 7 features/);
      layer.dispose();
    }
  });

  it('Conv3d with stride and padding', async () => {
    const [n, d, h, w, cin, cout] = [1, 5, 4, 3, 2, 3];
    const layer = new g.Conv3d(rt, cin, cout, [3, 2, 3], { stride: [2, 1, 2], padding: [1, 0, 1], seed: 4 });
    const x = randomArray(n * d * h * w * cin, 13);
    const [wt, b, y, shape] = await g.tidyAsync(async () => {
      const out = layer.forward(g.fromArray(rt, x, [n, d, h, w, cin]));
      return [await layer.weight.read(), await layer.bias!.read(), await out.read(), out.shape] as const;
    });
    const k = [3, 2, 3];
    const s = [2, 1, 2];
    const p = [1, 0, 1];
    const outExtent = [d, h, w].map((e, a) => Math.floor((e + 2 * p[a]! - k[a]!) / s[a]!) + 1);
    expect(shape).toEqual([n, ...outExtent, cout]);
    const expected: number[] = [];
    for (let od = 0; od < outExtent[0]!; od++)
      for (let oh = 0; oh < outExtent[1]!; oh++)
        for (let ow = 0; ow < outExtent[2]!; ow++)
          for (let co = 0; co < cout; co++) {
            let sum = b[co]!;
            for (let kd = 0; kd < k[0]!; kd++)
              for (let kh = 0; kh < k[1]!; kh++)
                for (let kw = 0; kw < k[2]!; kw++) {
                  const [id, ih, iw] = [od * s[0]! - p[0]! + kd, oh * s[1]! - p[1]! + kh, ow * s[2]! - p[2]! + kw];
                  if (id < 0 || id >= d || ih < 0 || ih >= h || iw < 0 || iw >= w) continue;
                  for (let ci = 0; ci < cin; ci++) {
                    sum += x[((id * h + ih) * w + iw) * cin + ci]! * wt[(((co * k[0]! + kd) * k[1]! + kh) * k[2]! + kw) * cin + ci]!;
                  }
                }
            expected.push(sum);
          }
    expectClose(y, expected, 1e-4, 1e-6, 'Conv3d');
    layer.dispose();
  });

  it('GroupNorm with its affine parameters', async () => {
    const [n, sp, c, groups] = [2, 5, 6, 3];
    const layer = new g.GroupNorm(rt, groups, c);
    expect(await layer.weight!.read()).toEqual(new Float32Array(c).fill(1));
    expect(await layer.bias!.read()).toEqual(new Float32Array(c));
    const gamma = randomArray(c, 21, 0.5, 1.5);
    const beta = randomArray(c, 22);
    layer.loadState(new Map([['weight', gamma], ['bias', beta]]));
    const x = randomArray(n * sp * c, 23, -2, 3);
    const y = await g.tidyAsync(async () => layer.forward(g.fromArray(rt, x, [n, sp, c])).read());
    const expected = new Float64Array(x.length);
    const per = c / groups;
    for (let b = 0; b < n; b++) {
      for (let gi = 0; gi < groups; gi++) {
        const idx: number[] = [];
        for (let s = 0; s < sp; s++) for (let j = 0; j < per; j++) idx.push((b * sp + s) * c + gi * per + j);
        const mean = idx.reduce((t, i) => t + x[i]!, 0) / idx.length;
        const variance = idx.reduce((t, i) => t + (x[i]! - mean) ** 2, 0) / idx.length;
        for (const i of idx) expected[i] = ((x[i]! - mean) / Math.sqrt(variance + 1e-5)) * gamma[i % c]! + beta[i % c]!;
      }
    }
    expectClose(y, expected, 1e-4, 1e-5, 'GroupNorm');
    layer.dispose();
  });

  it('MLP: Linear, activation, Linear with PyTorch names', async () => {
    const mlp = new g.MLP(rt, [4, 6, 3], 'tanh', { seed: 3 });
    expect([...mlp.namedParameters().keys()]).toEqual(['0.weight', '0.bias', '2.weight', '2.bias']);
    const params = await readAll(mlp);
    const x = randomArray(5 * 4, 31);
    const y = await g.tidyAsync(async () => mlp.forward(g.fromArray(rt, x, [5, 4])).read());
    const dense = (input: ArrayLike<number>, rows: number, inF: number, outF: number, w: Float32Array, b: Float32Array) =>
      Float64Array.from({ length: rows * outF }, (_, k) => {
        const [r, o] = [Math.floor(k / outF), k % outF];
        let s = b[o]!;
        for (let i = 0; i < inF; i++) s += input[r * inF + i]! * w[o * inF + i]!;
        return s;
      });
    const hidden = dense(x, 5, 4, 6, params.get('0.weight')!, params.get('0.bias')!).map(Math.tanh);
    expectClose(y, dense(hidden, 5, 6, 3, params.get('2.weight')!, params.get('2.bias')!), 1e-4, 1e-6, 'MLP');
    mlp.dispose();
  });

  it('gradients flow through a module to its input (finite differences)', async () => {
    const mlp = new g.MLP(rt, [3, 4, 2], 'silu', { seed: 9 });
    await gradcheck(rt, (x) => mlp.forward(x), [{ data: randomArray(2 * 2 * 3, 41), shape: [2, 2, 3] }]);
    mlp.dispose();
  });

  it('Linear parameter gradients match the float64 ones', async () => {
    const layer = new g.Linear(rt, 5, 3, true, { seed: 10 });
    const x = randomArray(2 * 3 * 5, 51);
    const upstream = randomArray(2 * 3 * 3, 52);
    await g.tidyAsync(async () => {
      const y = layer.forward(g.fromArray(rt, x, [2, 3, 5]));
      g.backward(g.sum(g.mul(y, g.fromArray(rt, upstream, [2, 3, 3]))));
    });
    // L = sum(G * (x W^T + b)): dL/dW = G^T x, dL/db = column sums of G.
    const dW = new Float64Array(15);
    const db = new Float64Array(3);
    for (let r = 0; r < 6; r++) {
      for (let o = 0; o < 3; o++) {
        db[o] += upstream[r * 3 + o]!;
        for (let i = 0; i < 5; i++) dW[o * 5 + i] += upstream[r * 3 + o]! * x[r * 5 + i]!;
      }
    }
    expectClose(await layer.weight.grad!.read(), dW, 1e-4, 1e-6, 'dL/dW');
    expectClose(await layer.bias!.grad!.read(), db, 1e-4, 1e-6, 'dL/db');
    layer.zeroGrad();
    expect(layer.weight.grad).toBeNull();
    layer.dispose();
  });
});

describe('training', () => {
  it('an MLP fits a smooth function with AdamW, clipping and a warm-up/cosine schedule', async () => {
    const mlp = new g.MLP(rt, [2, 16, 1], 'tanh', { seed: 17 });
    const optimizer = new g.AdamW(mlp.namedParameters(), { weightDecay: 0 });
    const schedule = g.warmupCosine({ peakLr: 0.03, warmupSteps: 5, totalSteps: 80, minLr: 0.003 });
    const n = 33;
    const xs = randomArray(n * 2, 61, -1, 1);
    const ys = Float64Array.from({ length: n }, (_, i) => Math.sin(2 * xs[2 * i]!) * xs[2 * i + 1]!);
    const x = g.keep(g.fromArray(rt, xs, [n, 2]));
    const y = g.keep(g.fromArray(rt, ys, [n, 1]));
    const lossAt = () => g.mean(g.square(g.sub(mlp.forward(x), y)));
    const first = await g.tidyAsync(async () => g.noGrad(lossAt).item());
    for (let step = 0; step < 80; step++) {
      g.tidy(() => {
        optimizer.lr = schedule(step);
        g.backward(lossAt());
        g.clipGradNorm(mlp.namedParameters(), 1);
        optimizer.step();
        optimizer.zeroGrad();
      });
    }
    const last = await g.tidyAsync(async () => g.noGrad(lossAt).item());
    expect(last).toBeLessThan(first / 5);
    optimizer.dispose();
    mlp.dispose();
    x.dispose();
    y.dispose();
  });
});
