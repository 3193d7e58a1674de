// Tensor: a shape over GPU storage, with the autograd bookkeeping that backward() needs.
//
// Storage is reference-counted so that views (reshape) share one buffer; the buffer goes back to the
// runtime's pool when the last tensor over it is disposed. Every tensor is registered with the
// innermost open scope (scope.ts), which disposes it at the scope's end unless it is returned or kept.
import type { Runtime } from '../gpu/runtime';
import { trackTensor } from './scope';

export type DType = 'f32' | 'i32' | 'u32';

/** One recorded operation: its inputs and how to map the output's gradient onto theirs. */
export interface GradNode {
  op: string;
  inputs: Tensor[];
  /** Gradients for each input (null where an input needs none), given the output's gradient. */
  backward(gradOutput: Tensor): (Tensor | null)[];
}

export class Storage {
  private refs = 1;
  constructor(
    readonly runtime: Runtime,
    readonly buffer: GPUBuffer,
  ) {}

  retain(): this {
    this.refs++;
    return this;
  }

  releaseRef(): void {
    if (--this.refs === 0) this.runtime.release(this.buffer);
  }
}

let nextId = 0;

export class Tensor {
  readonly id = nextId++;
  readonly size: number;
  grad: Tensor | null = null;
  node: GradNode | null = null;
  private disposed = false;

  constructor(
    readonly storage: Storage,
    readonly shape: readonly number[],
    readonly dtype: DType = 'f32',
    public requiresGrad = false,
  ) {
    this.size = sizeOf(shape);
    trackTensor(this);
  }

  get runtime(): Runtime {
    return this.storage.runtime;
  }

  get buffer(): GPUBuffer {
    if (this.disposed) throw new Error(`tensor ${this.id} [${this.shape.join(', ')}] was used after dispose()`);
    return this.storage.buffer;
  }

  get rank(): number {
    return this.shape.length;
  }

  get isDisposed(): boolean {
    return this.disposed;
  }

  /** Copies the values to the CPU (submits pending GPU work and waits for it). */
  async read(): Promise<Float32Array> {
    if (this.dtype !== 'f32') throw new Error(`read() returns f32; this tensor is ${this.dtype}: use readInt()`);
    return this.runtime.readFloat32(this.buffer, this.size);
  }

  async readInt(): Promise<Int32Array | Uint32Array> {
    const bytes = await this.runtime.read(this.buffer, 0, this.size * 4);
    return this.dtype === 'u32' ? new Uint32Array(bytes) : new Int32Array(bytes);
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new Error(`item() needs a one-element tensor, this one has shape [${this.shape.join(', ')}]`);
    return (await this.read())[0]!;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.node = null;
    this.storage.releaseRef();
  }

  toString(): string {
    return `Tensor#${this.id}[${this.shape.join(', ')}]${this.requiresGrad ? ' (requires grad)' : ''}`;
  }
}

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new RangeError(`invalid shape [${shape.join(', ')}]`);
    n *= d;
  }
  return n;
}

/** Row-major strides of a contiguous tensor. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function shapeString(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}
