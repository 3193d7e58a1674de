// The benchmark runner's command line: `npm run bench -- [NAME...] [options] [--json]`. Each benchmark
// declares the options it reads, so `--help` lists them and a misspelt or misplaced option is an
// error rather than a silent run of every benchmark with its defaults (which takes many minutes).
import { parseArgs, UsageError, type OptionSpec, type ParsedArgs } from '../src/cli/args';
import { formatUsage, optionLines } from '../src/cli/usage';
import type { Benchmark } from './harness';

const RUNNER_OPTIONS: Record<string, OptionSpec> = {
  json: { type: 'boolean', description: 'print one JSON document instead of the table' },
};

export type BenchArgs =
  | { help: true; usage: string }
  | { help: false; chosen: Benchmark[]; options: ParsedArgs['options']; json: boolean };

export function benchUsage(benchmarks: readonly Benchmark[]): string {
  const runner = formatUsage({
    synopsis: ['npm run bench -- [NAME...] [options] [--json]', 'npm run bench -- quality [options] (npm run bench -- quality --help)'],
    options: RUNNER_OPTIONS,
    notes: ['Runs the named benchmarks, or all of them when none is named, on this machine\'s WebGPU adapter.'],
  });
  const perBenchmark = benchmarks.map((b) => [`${b.name}: ${b.description}`, ...optionLines(b.options)].join('\n'));
  return [runner, ...perBenchmark].join('\n\n');
}

/** Parses the runner's arguments against the options of the benchmarks it is to run. */
export function parseBenchArgs(argv: string[], benchmarks: readonly Benchmark[]): BenchArgs {
  const spec: Record<string, OptionSpec> = { ...RUNNER_OPTIONS };
  for (const b of benchmarks) Object.assign(spec, b.options);
  const args = parseArgs(argv, spec, { positionals: true });
  if (args.help) return { help: true, usage: benchUsage(benchmarks) };
  const unknown = args.positionals.filter((n) => !benchmarks.some((b) => b.name === n));
  if (unknown.length) {
    throw new UsageError(`unknown benchmark ${unknown.join(', ')}; known: ${benchmarks.map((b) => b.name).join(', ')}, quality`);
  }
  const chosen = args.positionals.length ? benchmarks.filter((b) => args.positionals.includes(b.name)) : [...benchmarks];
  const { json, ...options } = args.options;
  for (const name of Object.keys(options)) {
    if (!chosen.some((b) => name in b.options)) {
      const takers = benchmarks.filter((b) => name in b.options).map((b) => b.name);
      throw new UsageError(`--${name} is an option of ${takers.join(', ')}, not of ${chosen.map((b) => b.name).join(', ')}`);
    }
  }
  return { help: false, chosen, options, json: json === true };
}
