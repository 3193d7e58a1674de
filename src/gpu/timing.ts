// Wall-clock timing of GPU work: each run is submitted and waited for, so the figure includes the
// driver's submission cost; callers size the work so that cost is small beside it.
import type { Runtime } from './runtime';

export interface Timing {
  medianMs: number;
  minMs: number;
  runs: number;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Median milliseconds of `work` (which only encodes dispatches) after `warmup` untimed runs. */
export async function timeGpu(runtime: Runtime, work: () => void, options: { warmup?: number; runs?: number } = {}): Promise<Timing> {
  const { warmup = 2, runs = 7 } = options;
  for (let i = 0; i < warmup; i++) {
    work();
    await runtime.sync();
  }
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    work();
    await runtime.sync();
    times.push(performance.now() - start);
  }
  return { medianMs: median(times), minMs: Math.min(...times), runs };
}
