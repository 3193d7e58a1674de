// MLP: Linear layers with an activation between them (none after the last), laid out as PyTorch's
// nn.Sequential(Linear, Act, Linear, ...), so parameters are named 0.weight, 0.bias, 2.weight, ...
import type { Runtime } from '../../gpu/runtime';
import { deriveSeed } from '../ops/random';
import { nextInitSeed } from './init';
import { Linear } from './linear';
import { Activation, Sequential, type ActivationName } from './sequential';
import type { Tensor } from '../tensor';

export interface MLPOptions {
  bias?: boolean;
  /** Fixes every layer's initial weights (layer i uses deriveSeed(seed, i)). */
  seed?: number;
}

export class MLP extends Sequential {
  constructor(
    runtime: Runtime,
    readonly sizes: readonly number[],
    activation: ActivationName | ((x: Tensor) => Tensor) = 'relu',
    options: MLPOptions = {},
  ) {
    super();
    if (sizes.length < 2) throw new RangeError(`MLP: needs at least an input and an output size, got [${sizes.join(', ')}]`);
    const seed = options.seed ?? nextInitSeed();
    for (let i = 0; i + 1 < sizes.length; i++) {
      if (i > 0) this.append(new Activation(activation));
      this.append(new Linear(runtime, sizes[i]!, sizes[i + 1]!, options.bias ?? true, { seed: deriveSeed(seed, i) }));
    }
  }

  /** As Sequential's, with each activation that has a fused form applied in its Linear's bias kernel. */
  override forward(x: Tensor): Tensor {
    let h = x;
    for (let i = 0; i < this.length; i++) {
      const layer = this.at(i);
      const next = i + 1 < this.length ? this.at(i + 1) : null;
      if (layer instanceof Linear && next instanceof Activation && next.expression) {
        h = layer.forward(h, next.expression);
        i++;
      } else {
        h = layer.forward(h);
      }
    }
    return h;
  }
}
