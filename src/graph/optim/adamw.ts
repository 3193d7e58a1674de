// AdamW (Loshchilov and Hutter, decoupled weight decay) with PyTorch's semantics and defaults:
// lr 1e-3, betas (0.9, 0.999), eps 1e-8, weight decay 0.01, bias correction, amsgrad off. The moments
// of every parameter live in two arenas (arena.ts); a step copies the parameters and gradients into
// arenas of the same layout, runs one fused kernel per run of parameters that share a step count
// (normally one for the whole model) and copies the parameters back; nothing is read back. As in
// PyTorch, a parameter without a gradient is skipped and its step count stays. Gradient-norm clipping
// can be folded in (step({ maxGradNorm })), which adds two dispatches instead of three per parameter.
import { adamwStep } from '../../kernels/adamw';
import { fill } from '../../kernels/fill';
import { keep, noGrad } from '../scope';
import { sameShape, shapeString, type Tensor } from '../tensor';
import { empty } from '../ops/create';
import { ArenaLayout, arenaNormAndFactor, checkMaxNorm } from './arena';
import { namedEntries, type ParameterList } from './params';

export interface AdamWOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

/** One parameter's optimiser state: its step count and first and second moments (copies, see getState). */
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
  private readonly layout: ArenaLayout;
  /** Steps taken per parameter index; absent until the parameter's first gradient (PyTorch's lazy state). */
  private readonly steps = new Map<number, number>();
  /** The moment arenas, created at the first step or state load. */
  private moments: { m: GPUBuffer; v: GPUBuffer } | null = null;
  /** The tensors the last getState() handed out. */
  private snapshot: Tensor[] = [];

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
    this.layout = new ArenaLayout(this.entries.map(([, p]) => p.size));
  }

  /** The parameters, in order, as given. */
  get parameters(): Tensor[] {
    return this.entries.map(([, p]) => p);
  }

  /**
   * Updates every parameter that has a gradient, in place. With maxGradNorm, the gradients are first
   * scaled as clipGradNorm would (their joint 2-norm at most maxNorm; the gradients themselves are left
   * as they are) and the norm before clipping is returned as a one-element tensor; else null.
   */
  step(options: { maxGradNorm?: number } = {}): Tensor | null {
    // Checked before any state changes: a bad limit must not leave a step counted but not taken.
    if (options.maxGradNorm !== undefined) checkMaxNorm(options.maxGradNorm);
    this.stepCount++;
    return noGrad(() => {
      const grads = this.entries.map(([name, param]) => {
        const grad = param.grad;
        if (grad && grad.size !== param.size) {
          throw new Error(`AdamW: gradient ${shapeString(grad.shape)} of parameter ${name} does not match its shape ${shapeString(param.shape)}`);
        }
        return grad;
      });
      if (!grads.some((g) => g !== null)) {
        if (options.maxGradNorm !== undefined) throw new Error('clipGradNorm: no parameter has a gradient');
        return null;
      }
      const runtime = this.entries[0]![1].runtime;
      const moments = this.momentArenas();
      grads.forEach((grad, k) => {
        if (grad) this.steps.set(k, (this.steps.get(k) ?? 0) + 1);
      });
      const updated = this.entries.map(([, p], k) => (grads[k] ? p : null));
      const params = this.layout.allocate(runtime, 'AdamW parameters');
      const gradients = this.layout.allocate(runtime, 'AdamW gradients');
      this.layout.gather(params, updated);
      this.layout.gather(gradients, grads);
      let clip: { norm: Tensor; factor: Tensor } | null = null;
      if (options.maxGradNorm !== undefined) {
        clip = arenaNormAndFactor(runtime, gradients, this.layout.runs(grads.map((g) => (g ? true : null))), options.maxGradNorm);
      }
      for (const run of this.layout.runs(grads.map((g, k) => (g ? this.steps.get(k)! : null)))) {
        adamwStep(
          runtime,
          { param: params, grad: gradients, m: moments.m, v: moments.v, gradScale: clip?.factor.buffer },
          run,
          { lr: this.lr, beta1: this.beta1, beta2: this.beta2, eps: this.eps, weightDecay: this.weightDecay, step: run.key },
        );
      }
      this.layout.scatter(params, updated);
      runtime.release(params);
      runtime.release(gradients);
      clip?.factor.dispose();
      return clip?.norm ?? null;
    });
  }

  /** Drops every parameter's gradient (PyTorch's zero_grad(set_to_none=True)). */
  zeroGrad(): void {
    for (const [, p] of this.entries) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /**
   * The state, keyed by parameter name, to save a checkpoint: the moments are copies that this
   * optimiser owns and frees at the next getState() or dispose().
   */
  getState(): AdamWState {
    this.disposeSnapshot();
    const params = new Map<string, AdamWParamState>();
    this.entries.forEach(([name, param], k) => {
      const step = this.steps.get(k);
      if (step === undefined) return;
      const [m, v] = (['m', 'v'] as const).map((which) => {
        const copy = keep(empty(param.runtime, param.shape));
        param.runtime.copy(this.moments![which], this.layout.slots[k]!.offset * 4, copy.buffer, 0, param.size * 4);
        this.snapshot.push(copy);
        return copy;
      });
      params.set(name, { step, m: m!, v: v! });
    });
    return { step: this.stepCount, params };
  }

  /** Copies a saved state in (moments into this optimiser's arenas); unknown names are an error. */
  loadState(saved: AdamWStateInput): void {
    const indexOf = new Map(this.entries.map(([name], k) => [name, k]));
    for (const name of saved.params.keys()) {
      if (!indexOf.has(name)) throw new Error(`AdamW.loadState: no parameter named "${name}"`);
    }
    const moments = this.momentArenas();
    for (const [name, entry] of saved.params) {
      const k = indexOf.get(name)!;
      const param = this.entries[k]![1];
      copyInto(moments.m, this.layout.slots[k]!.offset, param, entry.m, `${name}.m`);
      copyInto(moments.v, this.layout.slots[k]!.offset, param, entry.v, `${name}.v`);
      this.steps.set(k, entry.step);
    }
    this.stepCount = saved.step;
  }

  /** Frees the moment arenas. */
  dispose(): void {
    this.disposeSnapshot();
    if (this.moments) {
      const runtime = this.entries[0]![1].runtime;
      runtime.release(this.moments.m);
      runtime.release(this.moments.v);
    }
    this.moments = null;
    this.steps.clear();
  }

  private disposeSnapshot(): void {
    for (const t of this.snapshot) t.dispose();
    this.snapshot = [];
  }

  /** The moment arenas, zeroed when first made: a parameter's moments start at zero at its first gradient. */
  private momentArenas(): { m: GPUBuffer; v: GPUBuffer } {
    if (!this.moments) {
      const runtime = this.entries[0]![1].runtime;
      this.moments = { m: this.layout.allocate(runtime, 'AdamW m'), v: this.layout.allocate(runtime, 'AdamW v') };
      fill(runtime, this.moments.m, this.layout.size, 0);
      fill(runtime, this.moments.v, this.layout.size, 0);
    }
    return this.moments;
  }
}

/** Writes one parameter's saved moment into its slot of a moment arena. */
function copyInto(arena: GPUBuffer, offset: number, param: Tensor, source: Tensor | ArrayLike<number>, what: string): void {
  if ('storage' in source && 'shape' in source) {
    if (!sameShape(source.shape, param.shape)) {
      throw new Error(`AdamW.loadState: ${what} has shape ${shapeString(source.shape)}, expected ${shapeString(param.shape)}`);
    }
    param.runtime.copy(source.buffer, 0, arena, offset * 4, param.size * 4);
    return;
  }
  if (source.length !== param.size) throw new Error(`AdamW.loadState: ${what} has ${source.length} values, expected ${param.size}`);
  param.runtime.write(arena, Float32Array.from(source), offset * 4);
}
