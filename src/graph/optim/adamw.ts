// AdamW (Loshchilov and Hutter, decoupled weight decay) with PyTorch's semantics and defaults:
// lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01, bias correction, amsgrad off. Each step is
// one fused kernel per parameter that updates the parameter and its two moments in place; nothing is
// read back. As in PyTorch, a parameter without a gradient is skipped and its step count stays.
import { adamwStep } from '../../kernels/adamw';
import { keep, noGrad } from '../scope';
import { sameShape, shapeString, type Tensor } from '../tensor';
import { zeros } from '../ops/create';
import { namedEntries, type ParameterList } from './params';

export interface AdamWOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

/** One parameter's optimiser state: its step count and first and second moments. */
export interface AdamWParamState {
  step: number;
  m: Tensor;
  v: Tensor;
}

/** What a checkpoint stores: the optimiser's step count and each named parameter's state. */
export interface AdamWState {
  step: number;
  params: Map<string, AdamWParamState>;
}

/** State to load: moments as tensors or as CPU values. */
export interface AdamWStateInput {
  step: number;
  params: ReadonlyMap<string, { step: number; m: Tensor | ArrayLike<number>; v: Tensor | ArrayLike<number> }>;
}

export class AdamW {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** Steps taken (calls to step()). */
  stepCount = 0;
  private readonly entries: [string, Tensor][];
  private readonly state = new Map<string, AdamWParamState>();

  constructor(params: ParameterList, options: AdamWOptions = {}) {
    this.entries = namedEntries(params);
    const names = new Set(this.entries.map(([name]) => name));
    if (names.size !== this.entries.length) throw new Error('AdamW: parameter names must be unique');
    this.lr = options.lr ?? 1e-3;
    this.beta1 = options.beta1 ?? 0.9;
    this.beta2 = options.beta2 ?? 0.999;
    this.eps = options.eps ?? 1e-8;
    this.weightDecay = options.weightDecay ?? 0.01;
    if (!(this.lr >= 0)) throw new RangeError(`AdamW: lr must be >= 0, got ${this.lr}`);
    for (const [name, beta] of [['beta1', this.beta1], ['beta2', this.beta2]] as const) {
      if (!(beta >= 0 && beta < 1)) throw new RangeError(`AdamW: ${name} must be in [0, 1), got ${beta}`);
    }
    if (!(this.eps >= 0)) throw new RangeError(`AdamW: eps must be >= 0, got ${this.eps}`);
    if (!(this.weightDecay >= 0)) throw new RangeError(`AdamW: weightDecay must be >= 0, got ${this.weightDecay}`);
    for (const [name, p] of this.entries) {
      if (p.dtype !== 'f32') throw new TypeError(`AdamW: parameter ${name} is ${p.dtype}, not f32`);
    }
  }

  /** The parameters, in order, as given. */
  get parameters(): Tensor[] {
    return this.entries.map(([, p]) => p);
  }

  /** Updates every parameter that has a gradient, in place. */
  step(): void {
    this.stepCount++;
    noGrad(() => {
      for (const [name, param] of this.entries) {
        const grad = param.grad;
        if (!grad) continue;
        if (grad.size !== param.size) {
          throw new Error(`AdamW: gradient ${shapeString(grad.shape)} of parameter ${name} does not match its shape ${shapeString(param.shape)}`);
        }
        const s = this.stateFor(name, param);
        s.step++;
        adamwStep(
          param.runtime,
          { param: param.buffer, grad: grad.buffer, m: s.m.buffer, v: s.v.buffer },
          param.size,
          { lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay, step: s.step },
        );
      }
    });
  }

  /** Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const [, p] of this.entries) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** The live state, keyed by parameter name: read it to save a checkpoint. */
  getState(): AdamWState {
    return { step: this.stepCount, params: new Map(this.state) };
  }

  /** Copies a saved state in (moments into this optimiser's own buffers); unknown names are an error. */
  loadState(saved: AdamWStateInput): void {
    const byName = new Map(this.entries);
    for (const name of saved.params.keys()) {
      if (!byName.has(name)) throw new Error(`AdamW.loadState: no parameter named "${name}"`);
    }
    for (const [name, entry] of saved.params) {
      const param = byName.get(name)!;
      const s = this.stateFor(name, param);
      copyInto(s.m, entry.m, `${name}.m`);
      copyInto(s.v, entry.v, `${name}.v`);
      s.step = entry.step;
    }
    this.stepCount = saved.step;
  }

  /** Frees the moment buffers. */
  dispose(): void {
    for (const s of this.state.values()) {
      s.m.dispose();
      s.v.dispose();
    }
    this.state.clear();
  }

  private stateFor(name: string, param: Tensor): AdamWParamState {
    let s = this.state.get(name);
    if (!s) {
      // Created lazily, as in PyTorch, and kept out of the caller's scope: they live with the optimiser.
      s = { step: 0, m: keep(zeros(param.runtime, param.shape)), v: keep(zeros(param.runtime, param.shape)) };
      this.state.set(name, s);
    }
    return s;
  }
}

function copyInto(target: Tensor, source: Tensor | ArrayLike<number>, what: string): void {
  if ('storage' in source && 'shape' in source) {
    if (!sameShape(source.shape, target.shape)) {
      throw new Error(`AdamW.loadState: ${what} has shape ${shapeString(source.shape)}, expected ${shapeString(target.shape)}`);
    }
    target.runtime.copy(source.buffer, 0, target.buffer, 0, target.size * 4);
    return;
  }
  if (source.length !== target.size) throw new Error(`AdamW.loadState: ${what} has ${source.length} values, expected ${target.size}`);
  target.runtime.write(target.buffer, Float32Array.from(source));
}
