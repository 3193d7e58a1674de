// Making tensors: from CPU data, filled with a constant, or uninitialised for a kernel to write.
import type { Runtime } from '../../gpu/runtime';
import { fill } from '../../kernels/fill';
import { shapeString, sizeOf, Storage, Tensor, type DType } from '../tensor';

/** A tensor whose contents a kernel is about to write. */
export function empty(runtime: Runtime, shape: readonly number[], dtype: DType = 'f32'): Tensor {
  const buffer = runtime.buffer(Math.max(1, sizeOf(shape)) * 4);
  return new Tensor(new Storage(runtime, buffer), [...shape], dtype);
}

export function fromArray(
  runtime: Runtime,
  data: ArrayLike<number>,
  shape: readonly number[] = [data.length],
  options: { requiresGrad?: boolean; dtype?: DType } = {},
): Tensor {
  const dtype = options.dtype ?? 'f32';
  if (sizeOf(shape) !== data.length) throw new RangeError(`fromArray: ${data.length} values do not fill shape ${shapeString(shape)}`);
  const typed = dtype === 'f32' ? Float32Array.from(data) : dtype === 'i32' ? Int32Array.from(data) : Uint32Array.from(data);
  const buffer = runtime.upload(typed.length ? typed : new Float32Array(1));
  return new Tensor(new Storage(runtime, buffer), [...shape], dtype, options.requiresGrad ?? false);
}

export function full(runtime: Runtime, shape: readonly number[], value: number, options: { requiresGrad?: boolean } = {}): Tensor {
  const out = empty(runtime, shape);
  fill(runtime, out.buffer, out.size, value);
  out.requiresGrad = options.requiresGrad ?? false;
  return out;
}

export const zeros = (runtime: Runtime, shape: readonly number[], options?: { requiresGrad?: boolean }): Tensor =>
  full(runtime, shape, 0, options);

export const ones = (runtime: Runtime, shape: readonly number[], options?: { requiresGrad?: boolean }): Tensor =>
  full(runtime, shape, 1, options);

export const zerosLike = (t: Tensor): Tensor => full(t.runtime, t.shape, 0);
export const onesLike = (t: Tensor): Tensor => full(t.runtime, t.shape, 1);

/** A leaf that requires a gradient: a parameter or an input under a gradient check. */
export function parameter(runtime: Runtime, data: ArrayLike<number>, shape: readonly number[]): Tensor {
  return fromArray(runtime, data, shape, { requiresGrad: true });
}
