// The Philox4x32-10 kernel: the published known answers and a plain CPU implementation, bit for bit.
import { beforeAll, describe, expect, it } from 'vitest';
import * as g from '../../src/graph';
import type { Runtime } from '../../src/gpu/runtime';
import { random } from '../../src/kernels/random';
import { philox, referenceBits } from '../helpers/philox';
import { testRuntime } from '../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime();
});

// Random123's kat_vectors for philox4x32 10: counter, key, expected output.
const KNOWN_ANSWERS: [number[], number[], number[]][] = [
  [[0, 0, 0, 0], [0, 0], [0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8]],
  [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], [0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd]],
  [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], [0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1]],
];

const readBits = (make: () => g.Tensor) => g.tidyAsync(async () => make().readInt());

describe('Philox4x32-10 on the GPU', () => {
  it('the CPU reference reproduces the published known answers', () => {
    for (const [counter, key, expected] of KNOWN_ANSWERS) expect(philox(counter, key)).toEqual(expected);
  });

  it('the kernel reproduces the published known answers', async () => {
    for (const [counter, key, expected] of KNOWN_ANSWERS) {
      const bits = await g.tidyAsync(async () => {
        const out = g.empty(rt, [4], 'u32');
        random(rt, 'bits', out.buffer, 4, { key: key as [number, number], counter: counter as [number, number, number, number] });
        return out.readInt();
      });
      expect([...bits]).toEqual(expected);
    }
  });

  it('matches the CPU hash bit for bit over thousands of values, odd sizes and 64-bit seeds', async () => {
    for (const [n, seed] of [[4099, 12345], [7, 2 ** 40 + 3], [1, 0]] as const) {
      const bits = await readBits(() => g.randomBits(rt, [n], seed));
      const expected = referenceBits(n, seed);
      let mismatch = -1;
      for (let i = 0; i < n && mismatch < 0; i++) if (bits[i] !== expected[i]) mismatch = i;
      expect(mismatch, `n ${n}, seed ${seed}: first differing element`).toBe(-1);
    }
  });
});
