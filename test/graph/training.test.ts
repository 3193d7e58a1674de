// End-to-end training on the engine: a small two-level 3-D conv net with GroupNorm learns to denoise a
// synthetic volume with AdamW, reproducibly (test/helpers/denoise.ts has the task).
//
// The same losses must come out in Node and in Chromium: the Node run (first in `npm test`) writes
// them to .cache/, the Chromium run of this same file reads them and compares to 1e-5 relative.
import { describe, expect, it } from 'vitest';
import { train } from '../helpers/denoise';
import { privateRuntime } from '../helpers/runtime';

const STEPS = 30;
const LOSS_FILE = '.cache/repro/denoise-losses.json';
const inBrowser = typeof (globalThis as { document?: unknown }).document !== 'undefined';

async function saveLosses(losses: number[]): Promise<void> {
  const fs = 'node:fs';
  const { mkdirSync, writeFileSync } = (await import(/* @vite-ignore */ fs)) as typeof import('node:fs');
  mkdirSync('.cache/repro', { recursive: true });
  writeFileSync(LOSS_FILE, JSON.stringify(losses));
}

async function nodeLosses(): Promise<number[]> {
  const response = await fetch(`/${LOSS_FILE}`);
  if (!response.ok) throw new Error(`${LOSS_FILE} is missing: the Node suite writes it, run it first (npm test does)`);
  return response.json();
}

describe('training', () => {
  it('a two-level conv net with GroupNorm learns to denoise, reproducibly', async () => {
    const rt = await privateRuntime();
    try {
      const losses = await train(rt, STEPS);
      expect(losses.every(Number.isFinite)).toBe(true);
      const first = losses.slice(0, 3).reduce((a, b) => a + b) / 3;
      const last = losses.slice(-3).reduce((a, b) => a + b) / 3;
      // The stated factor: the mean of the last three losses is at most a third of the first three's.
      expect(last).toBeLessThan(first / 3);
      // Same seed, same losses on the same device.
      const again = await train(rt, 5);
      expect(again).toEqual(losses.slice(0, 5));
      if (inBrowser) {
        const reference = await nodeLosses();
        expect(reference).toHaveLength(losses.length);
        losses.forEach((l, i) => expect(Math.abs(l - reference[i]!)).toBeLessThanOrEqual(1e-5 * Math.abs(reference[i]!)));
      } else {
        await saveLosses(losses);
      }
    } finally {
      rt.dispose();
    }
  });
});
