// `npm run bench -- NAME... [--json]`: runs the named benchmarks (all when none is named) on this
// machine's WebGPU adapter and prints a table, or with --json one JSON document.
// `npm run bench -- quality [options]` is the quality benchmark (metrics, not speed), with its own options.
import { adapterName } from '../src/gpu/adapter';
import { runToExit } from '../src/cli/run-to-exit';
import { nodeRuntime } from '../src/gpu/node';
import { measureCeilings } from '../src/kernels/ceilings';
import { benchmarks } from './benchmarks/index';
import { runQualityBenchmark } from './quality/run';
import { report, table, type CaseReport } from './harness';

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'quality') return runQualityBenchmark(argv.slice(1));
  const names = argv.filter((a) => !a.startsWith('--'));
  const flags = new Set(argv.filter((a) => a.startsWith('--')));
  const json = flags.delete('--json');
  const unknown = names.filter((n) => !benchmarks.some((b) => b.name === n));
  if (unknown.length) {
    console.error(`bench: unknown benchmark ${unknown.join(', ')}; known: ${benchmarks.map((b) => b.name).join(', ')}, quality`);
    return 2;
  }
  const chosen = names.length ? benchmarks.filter((b) => names.includes(b.name)) : benchmarks;
  const runtime = await nodeRuntime();
  try {
    const ceilings = await measureCeilings(runtime);
    const rows: CaseReport[] = [];
    for (const benchmark of chosen) {
      if (!json) console.error(`bench: ${benchmark.name}: ${benchmark.description}`);
      const cases = await benchmark.run({ runtime, ceilings, flags });
      rows.push(...cases.map((c) => report(benchmark.name, c, ceilings)));
    }
    const adapter = runtime.adapter;
    if (json) {
      console.log(
        JSON.stringify(
          {
            adapter,
            ceilings: { fmaGflops: ceilings.fmaGflops, copyGBps: ceilings.copyGBps },
            date: new Date().toISOString(),
            cases: rows,
          },
          null,
          2,
        ),
      );
    } else {
      console.log(`adapter: ${adapterName(adapter)}${adapter.software ? ' (software)' : ''}`);
      console.log(`ceilings: ${ceilings.fmaGflops.toFixed(2)} GFLOP/s FMA, ${ceilings.copyGBps.toFixed(2)} GB/s copy\n`);
      console.log(table(rows));
    }
    return 0;
  } finally {
    runtime.dispose();
  }
}

runToExit(() => main(process.argv.slice(2)));
