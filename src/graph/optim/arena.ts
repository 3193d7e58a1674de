// A flat arena for a list of parameters: each parameter's elements at a fixed offset of one buffer,
// so that an optimiser step or a gradient norm is a few dispatches over the arena instead of a few per
// parameter. Tensors are copied in and out with buffer copies, which need no pipeline, bind group or
// workgroups on the adapter.
import type { Runtime } from '../../gpu/runtime';
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
