// Sequential: layers applied in order, registered as "0", "1", ... (PyTorch's nn.Sequential names),
// and Activation, a parameter-free layer wrapping an elementwise function.
import { gelu, leakyRelu, relu, sigmoid, silu, softplus, tanh } from '../ops/elementwise';
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

export class Activation extends Module {
  readonly fn: (x: Tensor) => Tensor;

  constructor(readonly activation: ActivationName | ((x: Tensor) => Tensor)) {
    super();
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
