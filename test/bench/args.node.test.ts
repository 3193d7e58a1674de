// The benchmark runner's command line: options belong to benchmarks, and anything it does not know
// is refused before a device is opened (a typo once ran every benchmark for ten minutes).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseBenchArgs } from '../../bench/args';
import { benchmarks } from '../../bench/benchmarks/index';

function chosen(argv: string[]) {
  const args = parseBenchArgs(argv, benchmarks);
  if (args.help) throw new Error('unexpected help');
  return args;
}

describe('benchmark runner arguments', () => {
  it('runs every benchmark when none is named, and the named ones otherwise', () => {
    expect(chosen([]).chosen.map((b) => b.name)).toEqual(benchmarks.map((b) => b.name));
    const args = chosen(['train', '--json', '--peer-cuda']);
    expect(args.chosen.map((b) => b.name)).toEqual(['train']);
    expect(args.json).toBe(true);
    expect(args.options).toEqual({ 'peer-cuda': true });
  });

  it('reads option values in both spellings', () => {
    expect(chosen(['conv3d', '--shape=stride 2', '--tune-cache', 'none']).options).toEqual({ shape: 'stride 2', 'tune-cache': 'none' });
  });

  it('prints every benchmark with its options for --help', () => {
    const args = parseBenchArgs(['conv3d', '--help'], benchmarks);
    expect(args.help).toBe(true);
    if (!args.help) return;
    for (const b of benchmarks) expect(args.usage).toContain(b.description);
    for (const option of ['--no-tune', '--tune-cache FILE', '--peer-cuda', '--quick', '--json']) expect(args.usage).toContain(option);
  });

  it('refuses unknown benchmarks, unknown options and options of benchmarks not being run', () => {
    expect(() => parseBenchArgs(['conv3', '--json'], benchmarks)).toThrow(/unknown benchmark conv3; known: ceilings, conv3d, nearest, predict, train, quality/);
    expect(() => parseBenchArgs(['--hlep'], benchmarks)).toThrow(/unknown option --hlep/);
    expect(() => parseBenchArgs(['ceilings', '--no-peer'], benchmarks)).toThrow(/--no-peer is an option of conv3d, nearest, train, not of ceilings/);
    expect(() => parseBenchArgs(['conv3d', '--shape'], benchmarks)).toThrow(/--shape needs a value/);
    expect(() => parseBenchArgs(['train', '--quick=yes'], benchmarks)).toThrow(/--quick takes no value/);
  });
});

describe('the built benchmark runner', () => {
  const bench = (argv: string[]) => {
    if (!existsSync('dist/bench.js')) throw new Error('dist/bench.js is missing: run `npm run build` first (npm test does)');
    return spawnSync(process.execPath, ['dist/bench.js', ...argv], { encoding: 'utf8', timeout: 60_000 });
  };

  it('prints the usage for --help and exits 0 without measuring anything', () => {
    const run = bench(['--help']);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^usage: npm run bench -- \[NAME\.\.\.\]/);
    expect(run.stdout).not.toMatch(/GFLOP\/s FMA/);
  });

  it('answers a usage error with one line and exit code 2, the benchmarks\' own options too', () => {
    for (const [argv, message] of [
      [['--hlep'], /^bench: unknown option --hlep \(npm run bench -- --help\)\n$/],
      [['quality', '--seeds', 'x'], /^bench: --seeds must be a decimal integer, got "x" \(npm run bench -- quality --help\)\n$/],
      [['conv3d', '--shape', 'nope', '--no-peer'], /bench: conv3d: no shape matches --shape=nope \(.*stride 2.*\) \(npm run bench -- --help\)\n$/],
      [['nearest', '--rows-per-invocation', '0', '--no-peer'], /bench: nearest: --rows-per-invocation takes integers 1 to 16, got 0 \(npm run bench -- --help\)\n$/],
    ] as const) {
      const run = bench([...argv]);
      expect(run.status).toBe(2);
      expect(run.stderr).toMatch(message);
    }
  });
});
