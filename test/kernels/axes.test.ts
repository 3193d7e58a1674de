// Axis merging keeps every operand's element mapping while lowering the rank the kernels decompose.
import { describe, expect, it } from 'vitest';
import { collapseAxes } from '../../src/kernels/axes';

/** Each operand's element offset for every output index, in output order. */
function offsets(shape: readonly number[], strides: readonly (readonly number[])[]): number[][] {
  const n = shape.reduce((p, d) => p * d, 1);
  return strides.map((s) =>
    Array.from({ length: n }, (_, index) => {
      let rest = index;
      let at = 0;
      for (let d = shape.length - 1; d >= 0; d--) {
        at += (rest % shape[d]!) * s[d]!;
        rest = Math.floor(rest / shape[d]!);
      }
      return at;
    }),
  );
}

describe('collapseAxes', () => {
  it('merges a same-shape operation into one axis', () => {
    expect(collapseAxes([2, 3, 4], [[12, 4, 1], [12, 4, 1]])).toEqual({ shape: [24], strides: [[1], [1]] });
  });

  it('keeps a per-channel bias as two axes', () => {
    const r = collapseAxes([2, 4, 4, 4, 8], [[512, 128, 32, 8, 1], [0, 0, 0, 0, 1]]);
    expect(r).toEqual({ shape: [128, 8], strides: [[8, 1], [0, 1]] });
  });

  it('drops extent-1 axes and leaves rank 1 for a scalar', () => {
    expect(collapseAxes([1, 1], [[1, 1], [0, 0]])).toEqual({ shape: [1], strides: [[0], [0]] });
    expect(collapseAxes([3, 1, 5], [[5, 5, 1], [0, 7, 0]])).toEqual({ shape: [15], strides: [[1], [0]] });
    expect(collapseAxes([3, 1, 5], [[5, 5, 1], [1, 7, 0]])).toEqual({ shape: [3, 5], strides: [[5, 1], [1, 0]] });
  });

  it('addresses the same elements as the original shape on random views', () => {
    let seed = 7;
    const random = (k: number) => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed % k);
    for (let trial = 0; trial < 200; trial++) {
      const rank = 1 + random(6);
      const shape = Array.from({ length: rank }, () => 1 + random(4));
      const operands = Array.from({ length: 1 + random(3) }, () => {
        // Contiguous, permuted, broadcast (stride 0) or padded (a larger row pitch) views.
        const s: number[] = [];
        let pitch = 1;
        for (let d = rank - 1; d >= 0; d--) {
          const kind = random(4);
          s[d] = kind === 0 ? 0 : pitch;
          pitch *= shape[d]! + (kind === 1 ? 1 : 0);
        }
        return random(3) === 0 ? s.reverse() : s;
      });
      const merged = collapseAxes(shape, operands);
      expect(merged.shape.length).toBeLessThanOrEqual(Math.max(rank, 1));
      expect(offsets(merged.shape, merged.strides)).toEqual(offsets(shape, operands));
    }
  });
});
