// A chain of elementwise ops as one recorded op: the forward is one generated kernel, and so is the
// backward, which computes every input's gradient g * d expr / d input (symbolic derivatives of the
// expression, src/kernels/fused-expression.ts) in one dispatch, recomputing what it needs from the
// inputs rather than keeping intermediates. Broadcast inputs then get their gradient summed back to
// their shape, as every broadcasting op does.
import { fusedBindings, fusedElementwise } from '../../kernels/fused-elementwise';
import { derivative, fx, inputCount, type FusedExpr } from '../../kernels/fused-expression';
import { broadcastShapes, broadcastStrides } from '../broadcast';
import { record } from '../tape';
import { sameShape, shapeString, type Tensor } from '../tensor';
import { empty } from './create';
import { sumTo } from './sum-to';

export { compose, fx, type FusedExpr } from '../../kernels/fused-expression';

/** Runs the kernel for `exprs` over `inputs`, broadcast to `shape`, into new tensors. */
function launch(exprs: readonly FusedExpr[], inputs: readonly Tensor[], shape: readonly number[], label: string | undefined): Tensor[] {
  const runtime = inputs[0]!.runtime;
  const outs = exprs.map(() => empty(runtime, shape));
  const operands = inputs.map((t) => ({ buffer: t.buffer, strides: broadcastStrides(t.shape, shape) }));
  fusedElementwise(runtime, exprs, shape, operands, outs.map((o) => o.buffer), label);
  return outs;
}

/**
 * Splits `exprs` into groups whose kernels fit the adapter's storage-buffer limit (a gradient kernel
 * binds the inputs it reads, the output gradient, and one output per input needing a gradient).
 */
function fittingGroups(exprs: FusedExpr[], limit: number): FusedExpr[][] {
  if (exprs.length <= 1 || fusedBindings(exprs) <= limit) return [exprs];
  const half = Math.ceil(exprs.length / 2);
  return [...fittingGroups(exprs.slice(0, half), limit), ...fittingGroups(exprs.slice(half), limit)];
}

/**
 * expr(inputs) elementwise, with NumPy broadcasting of the inputs (to `shape` where given, else to
 * their common shape); expr refers to inputs[i] as fx.input(i). One dispatch forward and (within the
 * adapter's binding limit) one backward. `label` names the op and its kernels in errors and profiles.
 */
export function fused(expr: FusedExpr, inputs: readonly Tensor[], label?: string, shape?: readonly number[]): Tensor {
  const name = label ?? 'fused';
  if (inputs.length === 0) throw new RangeError(`${name}: a fused op needs at least one input tensor`);
  if (inputCount(expr) > inputs.length) throw new RangeError(`${name}: the expression reads ${inputCount(expr)} inputs, ${inputs.length} were given`);
  const notF32 = inputs.find((t) => t.dtype !== 'f32');
  if (notF32) throw new TypeError(`${name}: inputs must be f32, got ${notF32.dtype} ${shapeString(notF32.shape)}`);
  const common = broadcastShapes(...inputs.map((t) => t.shape));
  const outShape = shape ? broadcastShapes(common, shape) : common;
  if (shape && !sameShape(outShape, shape)) throw new RangeError(`${name}: inputs of shape ${inputs.map((t) => shapeString(t.shape)).join(', ')} do not broadcast to ${shapeString(shape)}`);
  const [out] = launch([expr], inputs, outShape, label);
  return record(out!, name, [...inputs], (g) => {
    // The output's gradient is the extra input after the op's own.
    const gradient = fx.input(inputs.length);
    const wanted = inputs.map((t, i) => (t.requiresGrad ? i : -1)).filter((i) => i >= 0);
    const exprs = wanted.map((i) => fx.mul(gradient, derivative(expr, i)));
    const grads = new Map<number, Tensor>();
    let next = 0;
    for (const group of fittingGroups(exprs, g.runtime.limits.maxStorageBuffersPerShaderStage)) {
      for (const full of launch(group, [...inputs, g], outShape, label && `${label} grad`)) {
        const i = wanted[next++]!;
        const reduced = sumTo(full, inputs[i]!.shape);
        if (reduced !== full) full.dispose();
        grads.set(i, reduced);
      }
    }
    return inputs.map((_, i) => grads.get(i) ?? null);
  });
}
