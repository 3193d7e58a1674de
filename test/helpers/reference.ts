// Helpers for kernel tests against float64 references: seeded random inputs and closeness checks that
// report the worst element.
import { expect } from 'vitest';

/** A small seeded generator (mulberry32), so a failing case can be reproduced. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomArray(n: number, seed: number, low = -1, high = 1): Float64Array {
  const next = rng(seed);
  return Float64Array.from({ length: n }, () => low + (high - low) * next());
}

/**
 * Asserts |actual - expected| <= atol + rtol * |expected| everywhere (the DESIGN's relative error,
 * with an absolute floor for values near zero), and that nothing is NaN (unwritten outputs are poisoned).
 */
export function expectClose(actual: ArrayLike<number>, expected: ArrayLike<number>, rtol = 1e-4, atol = 1e-6, what = 'result'): void {
  expect(actual.length, `${what}: length`).toBe(expected.length);
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i]!;
    const e = expected[i]!;
    const excess = Number.isNaN(a) !== Number.isNaN(e) ? Infinity : Math.abs(a - e) - (atol + rtol * Math.abs(e));
    if (excess > worstExcess || (Number.isNaN(excess) && worst < 0)) {
      worstExcess = excess;
      worst = i;
    }
  }
  if (worst >= 0) {
    expect.fail(`${what}: element ${worst} is ${actual[worst]}, expected ${expected[worst]} (rtol ${rtol}, atol ${atol})`);
  }
}

/** Row-major index helpers for references over [.., ..] shapes. */
export function stridesOf(shape: readonly number[]): number[] {
  const strides: number[] = [];
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i]!;
  }
  return strides;
}

export function unravel(index: number, shape: readonly number[]): number[] {
  const coords = new Array<number>(shape.length);
  for (let d = shape.length - 1; d >= 0; d--) {
    coords[d] = index % shape[d]!;
    index = Math.floor(index / shape[d]!);
  }
  return coords;
}
