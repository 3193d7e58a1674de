// ActNorm (Glow): a per-channel affine map y = x * exp(logScale) + bias, initialised from the first
// batch it sees so that its output has zero mean and unit variance per channel. Screener modulates it
// by the condition: a linear map of the condition adds offsets to logScale and bias at every position.
import type { Runtime } from '../../gpu/runtime';
import { noGrad, tidy } from '../scope';
import type { Tensor } from '../tensor';
import { add, affine, exp, expandTo, log, mul, neg } from '../ops/elementwise';
import { matmul } from '../ops/matmul';
import { mean, sum, variance } from '../ops/reduce';
import { reshape } from '../ops/shape';
import { fromArray } from '../ops/create';
import { fused, fx } from '../ops/fused';
import { Module } from '../nn/module';
import { assignInPlace, checkInputs, positionShape, type FlowLayer, type FlowOutput } from './flow';

export interface ActNormOptions {
  /** Channels of the condition that modulates scale and shift; 0 for a plain ActNorm. */
  conditionChannels?: number;
  /** Added to the variance in the data initialisation. */
  eps?: number;
}

const [a, b, c] = [fx.input(0), fx.input(1), fx.input(2)];
/** x * exp(log scale) + bias of (x, log scale, bias). */
const FORWARD = fx.add(fx.mul(a, fx.exp(b)), c);
/** (y - bias) * exp(-log scale) of (y, log scale, bias). */
const INVERSE = fx.mul(fx.sub(a, c), fx.exp(fx.neg(b)));

export class ActNorm extends Module implements FlowLayer {
  /** [C]: log of the per-channel scale, so the scale stays positive and logdet is a plain sum. */
  readonly logScale: Tensor;
  /** [C] */
  readonly bias: Tensor;
  /** [Cc, C]: condition to logScale offset; zero at first, so the layer starts unmodulated. */
  readonly conditionScale: Tensor | null;
  /** [Cc, C]: condition to bias offset; zero at first. */
  readonly conditionShift: Tensor | null;
  /**
   * False until the first forward() has set logScale and bias from its batch. Not a tensor, so not in
   * a checkpoint: set it to true after loading saved parameters, or the next forward re-initialises.
   */
  initialized = false;
  readonly conditionChannels: number;
  private readonly eps: number;

  constructor(
    runtime: Runtime,
    readonly channels: number,
    options: ActNormOptions = {},
  ) {
    super();
    this.conditionChannels = options.conditionChannels ?? 0;
    this.eps = options.eps ?? 1e-6;
    const zeros = (shape: number[]) => fromArray(runtime, new Float32Array(shape[0]! * (shape[1] ?? 1)), shape);
    this.logScale = this.registerParameter('logScale', zeros([channels]));
    this.bias = this.registerParameter('bias', zeros([channels]));
    const cc = this.conditionChannels;
    this.conditionScale = cc ? this.registerParameter('conditionScale', zeros([cc, channels])) : null;
    this.conditionShift = cc ? this.registerParameter('conditionShift', zeros([cc, channels])) : null;
  }

  /** Sets logScale and bias so that x maps to zero mean, unit variance per channel (no gradient). */
  initializeFrom(x: Tensor): void {
    noGrad(() =>
      tidy(() => {
        const axes = x.shape.slice(0, -1).map((_, i) => i);
        const logScale = affine(log(add(variance(x, axes), this.eps)), -0.5, 0);
        assignInPlace(this.logScale, logScale);
        assignInPlace(this.bias, neg(mul(mean(x, axes), exp(logScale))));
      }),
    );
    this.initialized = true;
  }

  /** logScale and bias at every position, [..., C] (or [C] when there is no condition). */
  private effective(x: Tensor, condition?: Tensor): { logScale: Tensor; bias: Tensor } {
    if (!this.conditionScale || !this.conditionShift || !condition) return { logScale: this.logScale, bias: this.bias };
    // Two [Cc, C] maps rather than one [Cc, 2C] map split by slicing: fewer kernels forward and back.
    const rows = reshape(condition, [-1, this.conditionChannels]);
    const shape = [...positionShape(x), this.channels];
    return {
      logScale: reshape(add(matmul(rows, this.conditionScale), this.logScale), shape),
      bias: reshape(add(matmul(rows, this.conditionShift), this.bias), shape),
    };
  }

  /** logdet per position: the sum of the (modulated) log-scales. */
  forward(x: Tensor, condition?: Tensor): FlowOutput {
    checkInputs('ActNorm', x, this.channels, condition, this.conditionChannels);
    if (!this.initialized) this.initializeFrom(x);
    const { logScale, bias } = this.effective(x, condition);
    const y = fused(FORWARD, [x, logScale, bias], 'actNorm');
    const lead = positionShape(x);
    const logdet = condition ? sum(logScale, -1) : expandTo(reshape(sum(logScale), lead.map(() => 1)), lead);
    return { y, logdet };
  }

  inverse(y: Tensor, condition?: Tensor): Tensor {
    checkInputs('ActNorm.inverse', y, this.channels, condition, this.conditionChannels);
    const { logScale, bias } = this.effective(y, condition);
    return fused(INVERSE, [y, logScale, bias], 'actNormInverse');
  }
}
