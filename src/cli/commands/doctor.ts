// `screener doctor`: which adapter this machine gives, its limits, and its measured ceilings.
import { adapterLimits, adapterName, describeAdapter } from '../../gpu/adapter';
import { boundsChecks, nodeAdapter, openNodeRuntime } from '../../gpu/node';
import { measureCeilings } from '../../kernels/ceilings';
import { defineCommand } from '../command';

export const doctor = defineCommand({
  name: 'doctor',
  summary: 'report the WebGPU adapter, its limits and its measured FMA and copy ceilings',
  synopsis: ['screener doctor [--json]'],
  options: {
    json: { type: 'boolean', description: 'the report as one JSON document' },
  },
  notes: [
    'Names the adapter (and whether it is a software one), prints the limits that matter and measures two ' +
      'ceilings on it: GFLOP/s of a pure-FMA kernel and GB/s of a large copy (read + written bytes), medians ' +
      'of 7 runs after warm-up. SCREENER_ADAPTER=gpu|software forces a kind of adapter. Shaders run without ' +
      "WebGPU's run-time bounds checks on buffer accesses unless SCREENER_BOUNDS_CHECKS=on (the report says which).",
  ],
  async execute(args) {
    const adapter = await nodeAdapter();
    const report = describeAdapter(adapter);
    const limits = adapterLimits(adapter);
    const runtime = await openNodeRuntime(adapter);
    try {
      const ceilings = await measureCeilings(runtime);
      if (args.options.json) {
        console.log(
          JSON.stringify(
            {
              adapter: report,
              limits,
              timestampQuery: runtime.hasTimestamps,
              boundsChecks: boundsChecks(),
              fmaGflops: round(ceilings.fmaGflops),
              copyGBps: round(ceilings.copyGBps),
              fmaMedianMs: round(ceilings.fma.medianMs),
              copyMedianMs: round(ceilings.copy.medianMs),
            },
            null,
            2,
          ),
        );
        return 0;
      }
      const kind = report.software ? 'software adapter' : 'hardware adapter';
      console.log(`adapter      ${adapterName(report)} (${kind})`);
      console.log(`description  ${report.description || '(none given)'}`);
      console.log(`timestamps   ${runtime.hasTimestamps ? 'yes' : 'no'}`);
      console.log(`bounds checks ${boundsChecks() ? 'on (SCREENER_BOUNDS_CHECKS=on)' : 'off (SCREENER_BOUNDS_CHECKS=on turns them on)'}`);
      console.log('limits');
      for (const [name, value] of Object.entries(limits)) console.log(`  ${name.padEnd(36)} ${value}`);
      console.log(`fma ceiling  ${ceilings.fmaGflops.toFixed(2)} GFLOP/s  (median ${ceilings.fma.medianMs.toFixed(1)} ms of 7)`);
      console.log(`copy ceiling ${ceilings.copyGBps.toFixed(2)} GB/s  (read + written, median ${ceilings.copy.medianMs.toFixed(1)} ms of 7)`);
      return 0;
    } finally {
      runtime.dispose();
    }
  },
});

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
