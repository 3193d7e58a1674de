// `npm run bench -- NAME... [options] [--json]`: runs the named benchmarks (all when none is named) on this
// machine's WebGPU adapter and prints a table, or with --json one JSON document.
// `npm run bench -- quality [options]` is the quality benchmark (metrics, not speed), with its own options;
// `npm run bench -- reports ...` compares eval reports of models scored elsewhere.
import { adapterName } from '../src/gpu/adapter';
import { runToExit } from '../src/cli/run-to-exit';
import { boundsChecks, nodeRuntime } from '../src/gpu/node';
import { measureCeilings } from '../src/kernels/ceilings';
import { benchmarks } from './benchmarks/index';
import { runQualityBenchmark } from './quality/run';
import { runReports } from './quality/reports';
import { parseBenchArgs, type BenchArgs } from './args';
import { report, table, type CaseReport } from './harness';
import { UsageError } from '../src/cli/args';

/** A usage error is a message and exit code 2, not a stack trace. */
async function main(argv: string[]): Promise<number> {
  try {
    if (argv[0] === 'quality') return await runQualityBenchmark(argv.slice(1));
    if (argv[0] === 'reports') return await runReports(argv.slice(1));
    return await runBenchmarks(parseBenchArgs(argv, benchmarks));
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const help = argv[0] === 'quality' || argv[0] === 'reports' ? `npm run bench -- ${argv[0]} --help` : 'npm run bench -- --help';
    console.error(`bench: ${error.message} (${help})`);
    return 2;
  }
}

async function runBenchmarks(args: BenchArgs): Promise<number> {
  if (args.help) {
    console.log(args.usage);
    return 0;
  }
  const { chosen, options, json } = args;
  const runtime = await nodeRuntime();
  try {
    const ceilings = await measureCeilings(runtime);
    const rows: CaseReport[] = [];
    for (const benchmark of chosen) {
      if (!json) console.error(`bench: ${benchmark.name}: ${benchmark.description}`);
      const cases = await benchmark.run({ runtime, ceilings, options });
      rows.push(...cases.map((c) => report(benchmark.name, c, ceilings)));
    }
    const adapter = runtime.adapter;
    if (json) {
      console.log(
        JSON.stringify(
          {
            adapter,
            boundsChecks: boundsChecks(),
            ceilings: { fmaGflops: ceilings.fmaGflops, copyGBps: ceilings.copyGBps },
            date: new Date().toISOString(),
            cases: rows,
          },
          null,
          2,
        ),
      );
    } else {
      console.log(`adapter: ${adapterName(adapter)}${adapter.software ? ' (software)' : ''}, bounds checks ${boundsChecks() ? 'on' : 'off'}`);
      console.log(`ceilings: ${ceilings.fmaGflops.toFixed(2)} GFLOP/s FMA, ${ceilings.copyGBps.toFixed(2)} GB/s copy\n`);
      console.log(table(rows));
    }
    return 0;
  } finally {
    runtime.dispose();
  }
}

runToExit(() => main(process.argv.slice(2)));
