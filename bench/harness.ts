// What every benchmark returns and how the runner reports it. A benchmark measures its cases on the
// runtime it is given; the runner adds the fraction of the device's ceilings, measured in the same
// process, and prints a table or one JSON document.
import type { Ceilings } from '../src/kernels/ceilings';
import type { Runtime } from '../src/gpu/runtime';
import type { OptionSpec, ParsedArgs } from '../src/cli/args';

export interface BenchContext {
  runtime: Runtime;
  ceilings: Ceilings;
  /** The command line's options, as parsed against the benchmarks' `options` (e.g. `quick: true`). */
  options: ParsedArgs['options'];
}

/** One measured case. Give `flops` for arithmetic-bound work, `bytes` for memory-bound work. */
export interface BenchCase {
  name: string;
  shape: string;
  medianMs: number;
  flops?: number;
  bytes?: number;
  /** The same case measured on the peer (e.g. TensorFlow.js), in the same process and device. */
  peerMedianMs?: number | null;
  /** Anything else worth keeping in the JSON (direction, tile configuration, ...). */
  extra?: Record<string, unknown>;
}

export interface Benchmark {
  name: string;
  description: string;
  /** The command-line options it reads; the runner refuses any other and lists these in --help. */
  options: Record<string, OptionSpec>;
  run(context: BenchContext): Promise<BenchCase[]>;
}

export interface CaseReport {
  benchmark: string;
  name: string;
  shape: string;
  medianMs: number;
  gflops: number | null;
  gbps: number | null;
  /** Null for cases that count neither FLOPs nor bytes (whole-scan inference, say). */
  ceilingFraction: number | null;
  peerRatio: number | null;
  [key: string]: unknown;
}

const round = (v: number, digits = 4) => Number(v.toPrecision(digits));

export function report(benchmark: string, c: BenchCase, ceilings: Ceilings): CaseReport {
  const gflops = c.flops !== undefined ? c.flops / (c.medianMs * 1e6) : null;
  const gbps = c.bytes !== undefined && c.flops === undefined ? c.bytes / (c.medianMs * 1e6) : null;
  const ceilingFraction = gflops !== null ? gflops / ceilings.fmaGflops : gbps !== null ? gbps / ceilings.copyGBps : null;
  // peerRatio > 1 means this project is faster than the peer by that factor.
  const peerRatio = c.peerMedianMs ? c.peerMedianMs / c.medianMs : null;
  return {
    benchmark,
    name: c.name,
    shape: c.shape,
    ...c.extra,
    medianMs: round(c.medianMs),
    gflops: gflops === null ? null : round(gflops),
    gbps: gbps === null ? null : round(gbps),
    ceilingFraction: ceilingFraction === null ? null : round(ceilingFraction, 3),
    peerRatio: peerRatio === null ? null : round(peerRatio, 3),
  };
}

export function table(rows: CaseReport[]): string {
  const columns: [string, (r: CaseReport) => string][] = [
    ['benchmark', (r) => r.benchmark],
    ['case', (r) => r.name],
    ['shape', (r) => r.shape],
    ['median ms', (r) => r.medianMs.toFixed(3)],
    ['rate', (r) => (r.gflops !== null ? `${r.gflops.toFixed(2)} GFLOP/s` : r.gbps !== null ? `${r.gbps.toFixed(2)} GB/s` : '-')],
    ['of ceiling', (r) => (r.ceilingFraction === null ? '-' : `${(r.ceilingFraction * 100).toFixed(1)} %`)],
    ['vs peer', (r) => (r.peerRatio === null ? '-' : `${r.peerRatio.toFixed(2)}x`)],
  ];
  const cells = [columns.map(([h]) => h), ...rows.map((r) => columns.map(([, f]) => f(r)))];
  const widths = columns.map((_, i) => Math.max(...cells.map((row) => row[i]!.length)));
  return cells.map((row) => row.map((cell, i) => cell.padEnd(widths[i]!)).join('  ').trimEnd()).join('\n');
}

/** Reproducible values in [-0.5, 0.5) for benchmark inputs (a linear congruential generator). */
export function benchValues(count: number, seed: number): Float32Array {
  let state = seed >>> 0;
  const data = new Float32Array(count);
  for (let i = 0; i < count; i++) {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    data[i] = state / 2 ** 32 - 0.5;
  }
  return data;
}
