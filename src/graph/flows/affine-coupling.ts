// Affine coupling (RealNVP/Glow) with a condition: the channels split into a first half xa, passed
// through unchanged, and a second half xb, transformed as yb = (xb + shift) * sigmoid(s + 2), where
// (shift, s) = net([xa, condition]) at each position. sigmoid(s + 2), as in Glow and the paper, keeps
// the scale in (0, 1) and near 0.88 at the start, which keeps early training stable.
import type { Runtime } from '../../gpu/runtime';
import type { Tensor } from '../tensor';
import { fused, fx } from '../ops/fused';
import { concat, slice } from '../ops/layout';
import { sum } from '../ops/reduce';
import { tidy } from '../scope';
import { zeros } from '../ops/create';
import { Linear } from '../nn/linear';
import { MLP } from '../nn/mlp';
import { Module } from '../nn/module';
import { assignInPlace, checkInputs, type FlowLayer, type FlowOutput } from './flow';

export interface AffineCouplingOptions {
  /** Channels of the condition given to the scale/shift net; 0 for none. */
  conditionChannels?: number;
  /** Width of the net's two hidden layers. */
  hidden?: number;
  seed?: number;
}

const [a, b, c] = [fx.input(0), fx.input(1), fx.input(2)];
/** log sigmoid(s + 2) = -softplus(-(s + 2)), exact where sigmoid would round to 0 or 1. */
const LOG_SCALE = fx.neg(fx.softplus(fx.sub(fx.neg(a), 2)));
/** (x + shift) * exp(log scale) of (x, shift, log scale). */
const TRANSFORM = fx.mul(fx.add(a, b), fx.exp(c));
/** x * exp(-log scale) - shift of (x, shift, log scale). */
const INVERSE = fx.sub(fx.mul(a, fx.exp(fx.neg(c))), b);

export class AffineCoupling extends Module implements FlowLayer {
  /** [xa, condition] -> [shift, s], with [C - C/2] channels each; its last layer starts at zero. */
  readonly net: MLP;
  /** Channels passed through (floor(C / 2)) and transformed (the rest). */
  readonly passChannels: number;
  readonly transformChannels: number;
  readonly conditionChannels: number;

  constructor(
    runtime: Runtime,
    readonly channels: number,
    options: AffineCouplingOptions = {},
  ) {
    super();
    if (!Number.isInteger(channels) || channels < 2) throw new RangeError(`AffineCoupling: needs at least 2 channels to split, got ${channels}`);
    const { conditionChannels = 0, hidden = 64, seed = 0 } = options;
    this.conditionChannels = conditionChannels;
    this.passChannels = Math.floor(channels / 2);
    this.transformChannels = channels - this.passChannels;
    const widths = [this.passChannels + conditionChannels, hidden, hidden, 2 * this.transformChannels];
    this.net = this.registerModule('net', new MLP(runtime, widths, 'relu', { seed }));
    // The last layer starts at zero (Glow's Conv2dZeros), so every coupling starts as the same
    // channel-wise scaling by sigmoid(2) and the flow starts near the identity.
    const last = this.net.at(this.net.length - 1) as Linear;
    tidy(() => {
      for (const t of [last.weight, last.bias!]) assignInPlace(t, zeros(runtime, t.shape));
    });
  }

  private lastAxis(x: Tensor, from: number, to: number): Tensor {
    const lead = x.shape.slice(0, -1);
    return slice(x, [...lead.map(() => 0), from], [...lead, to]);
  }

  /** The pass-through half, the transformed half, the shift and log(scale) at every position. */
  private split(x: Tensor, condition?: Tensor): { pass: Tensor; rest: Tensor; shift: Tensor; logScale: Tensor } {
    const t = this.transformChannels;
    const pass = this.lastAxis(x, 0, this.passChannels);
    const rest = this.lastAxis(x, this.passChannels, this.channels);
    const h = this.net.forward(condition ? concat([pass, condition], -1) : pass);
    const logScale = fused(LOG_SCALE, [this.lastAxis(h, t, 2 * t)], 'couplingLogScale');
    return { pass, rest, shift: this.lastAxis(h, 0, t), logScale };
  }

  /** logdet per position: the sum of log(scale) over the transformed channels. */
  forward(x: Tensor, condition?: Tensor): FlowOutput {
    checkInputs('AffineCoupling', x, this.channels, condition, this.conditionChannels);
    const { pass, rest, shift, logScale } = this.split(x, condition);
    const transformed = fused(TRANSFORM, [rest, shift, logScale], 'couplingTransform');
    return { y: concat([pass, transformed], -1), logdet: sum(logScale, -1) };
  }

  inverse(y: Tensor, condition?: Tensor): Tensor {
    checkInputs('AffineCoupling.inverse', y, this.channels, condition, this.conditionChannels);
    const { pass, rest, shift, logScale } = this.split(y, condition);
    return concat([pass, fused(INVERSE, [rest, shift, logScale], 'couplingInverse')], -1);
  }
}
