// Sequential: layers applied in order, registered as "0", "1", ... (PyTorch's nn.Sequential names),
// and Activation, a parameter-free layer wrapping an elementwise function.
import { gelu, leakyRelu, relu, sigmoid, silu, softplus, tanh } from '../ops/elementwise';
import { fx, type FusedExpr } from '../ops/fused';
import type { Tensor } from '../tensor';
import { Module, type Layer } from './module';

export class Sequential extends Module {
  private readonly layers: Layer[] = [];

  constructor(...layers: Layer[]) {
    super();
    for (const layer of layers) this.append(layer);
  }

  append(layer: Layer): this {
    this.layers.push(this.registerModule(String(this.layers.length), layer));
    return this;
  }

  get length(): number {
    return this.layers.length;
  }

  at(index: number): Layer {
    const layer = this.layers[index];
    if (!layer) throw new RangeError(`Sequential: no layer ${index} (it has ${this.layers.length})`);
    return layer;
  }

  forward(x: Tensor): Tensor {
    return this.layers.reduce((h, layer) => layer.forward(h), x);
  }
}

export type ActivationName = 'relu' | 'leakyRelu' | 'silu' | 'gelu' | 'sigmoid' | 'tanh' | 'softplus' | 'identity';

const activations: Record<ActivationName, (x: Tensor) => Tensor> = {
  relu,
  leakyRelu: (x) => leakyRelu(x),
  silu,
  gelu,
  sigmoid,
  tanh,
  softplus,
  identity: (x) => x,
};

/** The named activations as fused expressions of fx.input(0), for layers that apply them in their own kernel. */
const expressions: Partial<Record<ActivationName, FusedExpr>> = {
  relu: fx.relu(fx.input(0)),
  leakyRelu: fx.leakyRelu(fx.input(0)),
  silu: fx.silu(fx.input(0)),
  sigmoid: fx.sigmoid(fx.input(0)),
  tanh: fx.tanh(fx.input(0)),
  softplus: fx.softplus(fx.input(0)),
};

export class Activation extends Module {
  readonly fn: (x: Tensor) => Tensor;
  /** The same function as a fused expression, where it has one (not for gelu, identity or a function). */
  readonly expression: FusedExpr | null;

  constructor(readonly activation: ActivationName | ((x: Tensor) => Tensor)) {
    super();
    this.expression = typeof activation === 'function' ? null : expressions[activation] ?? null;
    if (typeof activation === 'function') this.fn = activation;
    else {
      const fn = activations[activation];
      if (!fn) throw new Error(`Activation: unknown activation "${activation}" (known: ${Object.keys(activations).join(', ')})`);
      this.fn = fn;
    }
  }

  forward(x: Tensor): Tensor {
    return this.fn(x);
  }
}
