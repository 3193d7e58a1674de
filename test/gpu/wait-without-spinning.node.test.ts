// Waiting for Dawn in Node without spinning a core (src/gpu/node.ts: waitWithoutSpinning). Dawn's binding
// settles its promises from a setImmediate callback that queues itself again while any is pending; the
// stand-in below does the same and counts its polls, so the test sees how often a wait wakes the thread.
import { describe, expect, it } from 'vitest';
import { waitWithoutSpinning } from '../../src/gpu/node';

/** A promise settled by a Dawn-like poller once `ms` have passed, and the number of polls it took. */
function dawnLikeTask<T>(ms: number, outcome: { value: T } | { error: Error }) {
  const deadline = performance.now() + ms;
  let polls = 0;
  const promise = new Promise<T>((resolve, reject) => {
    const poll = () => {
      polls++;
      if (performance.now() < deadline) setImmediate(poll);
      else if ('value' in outcome) resolve(outcome.value);
      else reject(outcome.error);
    };
    setImmediate(poll);
  });
  return { promise, polls: () => polls };
}

describe('waitWithoutSpinning', () => {
  it('lets the poller run about once a millisecond instead of in a tight loop', async () => {
    const plain = dawnLikeTask(60, { value: 'plain' });
    const plainStart = performance.now();
    expect(await plain.promise).toBe('plain');
    const plainMs = performance.now() - plainStart;

    const gentle = dawnLikeTask(60, { value: 'gentle' });
    const gentleStart = performance.now();
    expect(await waitWithoutSpinning(gentle.promise)).toBe('gentle');
    const gentleMs = performance.now() - gentleStart;

    // A plain await polls as fast as the event loop turns: many times a millisecond.
    expect(plain.polls()).toBeGreaterThan(5 * plainMs);
    // The wait sleeps up to 1 ms between turns (shorter sleeps in its first milliseconds): a handful of
    // polls per millisecond at most, and each poll costs one turn of the loop.
    expect(gentle.polls()).toBeLessThan(2 * gentleMs + 60);
    expect(gentle.polls()).toBeGreaterThan(0);
  });

  it('passes a rejection through unchanged', async () => {
    const failure = new Error('device lost');
    await expect(waitWithoutSpinning(dawnLikeTask(5, { error: failure }).promise)).rejects.toBe(failure);
  });

  it('returns at once for a promise that has already settled', async () => {
    expect(await waitWithoutSpinning(Promise.resolve(42))).toBe(42);
  });
});
