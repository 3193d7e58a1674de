// Module: the base of every layer. It holds named parameters, named non-trainable buffers and named
// sub-modules, in registration order, and from them derives stable dotted names
// (`encoder.0.conv.weight`) that key checkpoints, as in PyTorch's state_dict.
import { keep } from '../scope';
import { sameShape, shapeString, type Tensor } from '../tensor';

/** State to load: a map (or plain object) from dotted names to tensors or CPU values. */
export type StateInput = ReadonlyMap<string, Tensor | ArrayLike<number>> | Readonly<Record<string, Tensor | ArrayLike<number>>>;

/** A module with a single-input forward pass: what Sequential chains. */
export type Layer = Module & { forward(x: Tensor): Tensor };

export abstract class Module {
  /** Training mode (the default) or evaluation mode; layers that differ between them read it. */
  training = true;
  private readonly ownParameters = new Map<string, Tensor>();
  private readonly ownBuffers = new Map<string, Tensor>();
  private readonly children = new Map<string, Module>();

  /** Registers a trainable tensor: it requires a gradient and lives until the module is disposed. */
  protected registerParameter(name: string, tensor: Tensor): Tensor {
    this.claim(name);
    tensor.requiresGrad = true;
    this.ownParameters.set(name, keep(tensor));
    return tensor;
  }

  /** Registers a tensor that is part of the state (checkpointed) but not trained. */
  protected registerBuffer(name: string, tensor: Tensor): Tensor {
    this.claim(name);
    this.ownBuffers.set(name, keep(tensor));
    return tensor;
  }

  protected registerModule<M extends Module>(name: string, module: M): M {
    this.claim(name);
    this.children.set(name, module);
    return module;
  }

  /** Direct sub-modules by name, in registration order. */
  namedChildren(): Map<string, Module> {
    return new Map(this.children);
  }

  /** This module ('') and every descendant, by dotted path. */
  namedModules(): Map<string, Module> {
    const out = new Map<string, Module>();
    const visit = (module: Module, path: string) => {
      if ([...out.values()].includes(module)) return;
      out.set(path, module);
      for (const [name, child] of module.children) visit(child, path ? `${path}.${name}` : name);
    };
    visit(this, '');
    return out;
  }

  /** Every parameter by dotted name; a tensor registered in several places is listed once. */
  namedParameters(): Map<string, Tensor> {
    return this.collect((m) => m.ownParameters);
  }

  parameters(): Tensor[] {
    return [...this.namedParameters().values()];
  }

  /** Parameters and buffers by dotted name: what a checkpoint stores. The tensors are the live ones. */
  stateDict(): Map<string, Tensor> {
    return this.collect((m) => new Map([...m.ownParameters, ...m.ownBuffers]));
  }

  /**
   * Copies saved values into this module's own tensors (so optimisers holding them stay valid).
   * With `strict` (the default) the names must match exactly; shapes must always match.
   */
  loadState(state: StateInput, options: { strict?: boolean } = {}): void {
    const strict = options.strict ?? true;
    const entries: [string, Tensor | ArrayLike<number>][] = state instanceof Map ? [...state.entries()] : Object.entries(state);
    const own = this.stateDict();
    if (strict) {
      const given = new Set(entries.map(([name]) => name));
      const missing = [...own.keys()].filter((name) => !given.has(name));
      const unexpected = [...given].filter((name) => !own.has(name));
      if (missing.length || unexpected.length) {
        const parts = [missing.length ? `missing ${missing.join(', ')}` : '', unexpected.length ? `unexpected ${unexpected.join(', ')}` : ''];
        throw new Error(`loadState: names do not match: ${parts.filter(Boolean).join('; ')}`);
      }
    }
    for (const [name, value] of entries) {
      const target = own.get(name);
      if (!target) continue;
      if (isTensor(value)) {
        if (!sameShape(value.shape, target.shape)) {
          throw new Error(`loadState: ${name} has shape ${shapeString(value.shape)}, the module's is ${shapeString(target.shape)}`);
        }
        if (value.buffer !== target.buffer) target.runtime.copy(value.buffer, 0, target.buffer, 0, target.size * 4);
      } else {
        if (value.length !== target.size) {
          throw new Error(`loadState: ${name} has ${value.length} values, the module's ${shapeString(target.shape)} holds ${target.size}`);
        }
        target.runtime.write(target.buffer, Float32Array.from(value));
      }
    }
  }

  /** Sets training mode on this module and every descendant. */
  train(on = true): this {
    for (const module of this.namedModules().values()) module.training = on;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Drops every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) {
      p.grad?.dispose();
      p.grad = null;
    }
  }

  /** Frees every parameter, gradient and buffer of this module and its descendants. */
  dispose(): void {
    for (const t of this.stateDict().values()) {
      t.grad?.dispose();
      t.grad = null;
      t.dispose();
    }
  }

  private collect(pick: (m: Module) => Map<string, Tensor>): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    const seen = new Set<Tensor>();
    for (const [path, module] of this.namedModules()) {
      for (const [name, tensor] of pick(module)) {
        if (seen.has(tensor)) continue;
        seen.add(tensor);
        out.set(path ? `${path}.${name}` : name, tensor);
      }
    }
    return out;
  }

  private claim(name: string): void {
    if (!name || name.includes('.')) throw new Error(`${this.constructor.name}: "${name}" is not a valid name (non-empty, no dots)`);
    if (this.ownParameters.has(name) || this.ownBuffers.has(name) || this.children.has(name)) {
      throw new Error(`${this.constructor.name}: "${name}" is already registered`);
    }
  }
}

function isTensor(value: unknown): value is Tensor {
  return typeof value === 'object' && value !== null && 'storage' in value && 'shape' in value;
}
