// A flat arena for a list of parameters: each parameter's elements at a fixed offset of one buffer,
// so that an optimiser step or a gradient norm is a few dispatches over the arena instead of a few per
// parameter. Tensors are copied in and out with buffer copies, which need no pipeline, bind group or
// workgroups on the adapter.
import type { Runtime } from '../../gpu/runtime';
import { finishNorm, partialCount, squaredSumPartials } from '../../kernels/grad-norm';
import { empty } from '../ops/create';
import type { Tensor } from '../tensor';

export interface ArenaSlot {
  /** First element of this parameter in the arena. */
  offset: number;
  size: number;
}

export class ArenaLayout {
  readonly slots: ArenaSlot[];
  /** Elements in the arena. */
  readonly size: number;

  constructor(sizes: readonly number[]) {
    let offset = 0;
    this.slots = sizes.map((size) => {
      const slot = { offset, size };
      offset += size;
      return slot;
    });
    this.size = Math.max(1, offset);
  }

  /** A pooled buffer as large as the arena (uninitialised); give it back with runtime.release(). */
  allocate(runtime: Runtime, label: string): GPUBuffer {
    return runtime.buffer(this.size * 4, label);
  }

  /** Copies each tensor (null: skipped) into its slot of `arena`. */
  gather(arena: GPUBuffer, tensors: readonly (Tensor | null)[]): void {
    tensors.forEach((tensor, k) => {
      if (tensor) tensor.runtime.copy(tensor.buffer, 0, arena, this.slots[k]!.offset * 4, this.slots[k]!.size * 4);
    });
  }

  /** Copies each tensor's slot of `arena` back into it (null: skipped). */
  scatter(arena: GPUBuffer, tensors: readonly (Tensor | null)[]): void {
    tensors.forEach((tensor, k) => {
      if (tensor) tensor.runtime.copy(arena, this.slots[k]!.offset * 4, tensor.buffer, 0, this.slots[k]!.size * 4);
    });
  }

  /**
   * Maximal runs of consecutive slots whose keys are equal and not null, as element ranges: one
   * dispatch per run updates every parameter of it.
   */
  runs<K>(keys: readonly (K | null)[]): { key: K; first: number; n: number }[] {
    const runs: { key: K; first: number; n: number }[] = [];
    keys.forEach((key, k) => {
      if (key === null) return;
      const slot = this.slots[k]!;
      const last = runs[runs.length - 1];
      if (last && last.key === key && last.first + last.n === slot.offset) last.n += slot.size;
      else runs.push({ key, first: slot.offset, n: slot.size });
    });
    return runs;
  }
}

/** A clipping limit must be positive (Infinity: measure only); callers check it before any work. */
export function checkMaxNorm(maxNorm: number): void {
  if (!(maxNorm > 0)) throw new RangeError(`clipGradNorm: maxNorm must be positive, got ${maxNorm}`);
}

/**
 * The 2-norm of the elements of `arena` in the given ranges, and the clip factor for maxNorm (Infinity:
 * measure only), as one-element tensors on the device.
 */
export function arenaNormAndFactor(
  runtime: Runtime,
  arena: GPUBuffer,
  ranges: readonly { first: number; n: number }[],
  maxNorm: number,
): { norm: Tensor; factor: Tensor } {
  checkMaxNorm(maxNorm);
  const total = ranges.reduce((count, range) => count + partialCount(range.n), 0);
  const partials = empty(runtime, [total]);
  const norm = empty(runtime, [1]);
  const factor = empty(runtime, [1]);
  let first = 0;
  for (const range of ranges) {
    squaredSumPartials(runtime, arena, range.n, partials.buffer, first, range.first);
    first += partialCount(range.n);
  }
  // An infinite maxNorm only measures; the kernel's uniforms take finite values.
  finishNorm(runtime, partials.buffer, total, Number.isFinite(maxNorm) ? maxNorm : 3.4e38, norm.buffer, factor.buffer);
  partials.dispose();
  return { norm, factor };
}
