// The in-place largest component (the body crop's) against the general labeller on random masks:
// the same voxels, the same size, ties to the first component in scan order.
import { describe, expect, it } from 'vitest';
import { labelComponents } from '../../../src/data/preprocess/components';
import { keepLargestComponent } from '../../../src/data/preprocess/largest-component';
import { Rng } from '../../../src/data/rng';
import type { Shape3 } from '../../../src/data/geometry/volume';

function reference(mask: Uint8Array, shape: Shape3): { mask: Uint8Array; size: number } {
  const { labels, sizes } = labelComponents(mask, shape, 6);
  let best = 0;
  sizes.forEach((size, k) => {
    if (size > (sizes[best - 1] ?? 0)) best = k + 1;
  });
  return { mask: Uint8Array.from(labels, (l) => (best && l === best ? 1 : 0)), size: best ? sizes[best - 1]! : 0 };
}

describe('keepLargestComponent', () => {
  it('keeps what labelComponents calls the largest 6-connected component', () => {
    const rng = new Rng(3);
    for (const [shape, density] of [[[7, 9, 11], 0.3], [[5, 13, 6], 0.5], [[12, 12, 12], 0.65], [[3, 4, 5], 0.1]] as [Shape3, number][]) {
      const mask = Uint8Array.from({ length: shape[0] * shape[1] * shape[2] }, () => (rng.next() < density ? 1 : 0));
      const expected = reference(mask, shape);
      const size = keepLargestComponent(mask, shape);
      expect(size).toBe(expected.size);
      expect(Array.from(mask)).toEqual(Array.from(expected.mask));
    }
  });

  it('gives ties to the first component in scan order, and 0 for an empty mask', () => {
    const mask = new Uint8Array(2 * 3 * 5);
    mask[0] = 1;
    mask[4] = 1; // two single voxels: the first wins
    expect(keepLargestComponent(mask, [2, 3, 5])).toBe(1);
    expect(mask[0]).toBe(1);
    expect(mask[4]).toBe(0);
    expect(keepLargestComponent(new Uint8Array(8), [2, 2, 2])).toBe(0);
  });

  it('grows its frontier past the initial ring on a large solid block', () => {
    const shape: Shape3 = [40, 200, 200]; // a frontier of far more than the ring's first 1024 entries
    const mask = new Uint8Array(shape[0] * shape[1] * shape[2]).fill(1);
    expect(keepLargestComponent(mask, shape)).toBe(mask.length);
    expect(mask.every((v) => v === 1)).toBe(true);
  });
});
