// The device's own ceilings as benchmark cases: every other figure is a fraction of these.
import type { Benchmark } from '../harness';

export const ceilings: Benchmark = {
  name: 'ceilings',
  description: 'GFLOP/s of a pure-FMA kernel and GB/s of a large buffer copy',
  options: {},
  async run({ ceilings: c }) {
    return [
      { name: 'fma', shape: `${c.fma.flops.toExponential(2)} FLOP`, medianMs: c.fma.medianMs, flops: c.fma.flops },
      { name: 'copy', shape: `${(c.copy.bytes / 2 ** 20).toFixed(0)} MiB moved`, medianMs: c.copy.medianMs, bytes: c.copy.bytes },
    ];
  },
};
