// A long training run does not grow the buffer pool: after the first steps every buffer a step needs
// comes from the pool. The pool is the same bookkeeping code in every host, so this runs in Node only.
import { describe, expect, it } from 'vitest';
import { smallNet, TINY_SHAPE, train } from '../helpers/denoise';
import { privateRuntime } from '../helpers/runtime';

describe('training', () => {
  it('200 steps leave the pool flat after the first steps', async () => {
    const rt = await privateRuntime();
    try {
      const allocated: number[] = [];
      const misses: number[] = [];
      const record = () => {
        allocated.push(rt.poolStats().allocatedBytes);
        misses.push(rt.poolStats().misses);
      };
      await train(rt, 200, TINY_SHAPE, record, smallNet);
      // Everything a step needs is allocated by the third step; after that buffers are only reused.
      expect(new Set(allocated.slice(3)).size).toBe(1);
      expect(new Set(misses.slice(3)).size).toBe(1);
      await rt.sync(); // and every step ran without a device error
    } finally {
      rt.dispose();
    }
  });
});
