// Picks the tile configuration of each implicit-GEMM convolution (implicit-gemm.ts) per adapter and
// shape class.
//
// Dispatch is synchronous and timing is not, so tuning is a separate, awaited step: choose() answers at
// once from the table (or with the fixed default) and remembers every shape class it had no entry for;
// `await tuner.tunePending()` times a few candidate tiles of each such class on this adapter and keeps
// the fastest; `await tuner.tune(...)` does it for one class up front. The table is plain JSON
// (exportTable / importTable), keyed by the adapter's description, so a host may keep it in a file (the
// engine itself never touches files).
//
// Who tunes: the conv3d benchmark (bench/benchmarks/conv3d.ts), which keeps its table in a file.
// Training and prediction never call tunePending and import no table, so they run on defaultTile().
import type { Runtime } from '../../gpu/runtime';
import { median } from '../../gpu/timing';
import { convFlops, convOutputExtent, volume, type Conv3dGeometry } from './geometry';
import { conv3dFastForwardWith, conv3dFastGradInputWith, conv3dFastGradWeightWith } from './implicit-gemm';
import { tileName, type ConvDirection, type ConvTile } from './tiles';

export interface TuningTable {
  version: 1;
  /** The adapter the timings were taken on (see adapterKey). */
  adapter: string;
  /** Shape class (shapeClass()) -> the fastest tile measured for it. */
  entries: Record<string, ConvTile>;
}

export interface TuningResult {
  shapeClass: string;
  best: ConvTile;
  /** Median milliseconds of each candidate timed, fastest first. */
  timings: { tile: ConvTile; name: string; ms: number }[];
}

export function adapterKey(runtime: Runtime): string {
  const a = runtime.adapter;
  return [a.vendor, a.architecture, a.device, a.description].join(' / ');
}

const log2Bucket = (n: number) => Math.round(Math.log2(Math.max(1, n)));

/**
 * Shapes that share a best tile: the direction, kernel, stride and padding, both channel counts, and the
 * number of output voxels (batch included) to the nearest power of two.
 */
export function shapeClass(direction: ConvDirection, g: Conv3dGeometry): string {
  const voxels = g.batch * g.output[0] * g.output[1] * g.output[2];
  return `${direction} k${g.kernel.join('x')} s${g.stride.join('x')} p${g.padding.join('x')} c${g.inChannels}>${g.outChannels} v2^${log2Bucket(voxels)}`;
}

/** Channels written by a direction's GEMM (its N side): output channels, or input channels for backward-data. */
function dstChannels(direction: ConvDirection, g: Conv3dGeometry): number {
  return direction === 'backwardData' ? g.inChannels : g.outChannels;
}

const roundUp4 = (n: number) => Math.ceil(n / 4) * 4;

/** The tile used when tuning is off or has not run yet for a class. */
export function defaultTile(software: boolean, direction: ConvDirection, g: Conv3dGeometry): ConvTile {
  const channels = dstChannels(direction, g);
  if (software) return softwareDefault(direction, g, channels);
  if (direction === 'backwardWeight') return { family: 'tiled', tm: 32, tn: 64, tk: 16, rm: 2, rn: 4 };
  if (channels <= 16) return { family: 'tiled', tm: 128, tn: 16, tk: 16, rm: 8, rn: 1 };
  if (channels <= 32) return { family: 'tiled', tm: 64, tn: 32, tk: 16, rm: 4, rn: 2 };
  return { family: 'tiled', tm: 64, tn: 64, tk: 16, rm: 4, rn: 4 };
}

/**
 * The register block on a software adapter, measured on SwiftShader at the shapes of the `small` UNet
 * (2 crops of 32^3; bench/RESULTS.md, "The training step after vec4 element kernels, wider register blocks and residue-class taps"):
 *  - forward and backward-data: 16 voxels along w when the destination has at least 16 per residue
 *    class (a 3x3x3 tap's weights then serve twice the voxels), else 8; a 1x1x1 kernel stays at 8 (its
 *    K is one tap, too short to pay for the larger block).
 *  - backward-weight: blocks of 16 input x 8 output channels on the large grids when the input channels
 *    come in whole blocks of 16; otherwise 8 input x up to 16 output channels.
 * Forward and backward-data sums are taken in the same order whatever the block, so there the choice
 * changes speed, not values; backward-weight splits its reduction by the number of blocks, so its sums
 * may differ in the last bits.
 */
function softwareDefault(direction: ConvDirection, g: Conv3dGeometry, channels: number): ConvTile {
  const bc = Math.min(16, roundUp4(channels));
  if (direction === 'backwardWeight') {
    const largeGrid = g.batch * volume(g.output) >= 8192;
    return largeGrid && g.inChannels % 16 === 0 && g.outChannels >= 8 ? { family: 'blocked', bv: 16, bc: 8 } : { family: 'blocked', bv: 8, bc };
  }
  const residue = direction === 'backwardData' ? g.stride[2] : 1;
  const wExtent = direction === 'backwardData' ? g.input[2] : g.output[2];
  const wide = volume(g.kernel) > 1 && Math.ceil(wExtent / residue) >= 16;
  return { family: 'blocked', bv: wide ? 16 : 8, bc };
}

/** Tiles worth timing for a class: the family that suits the adapter first, one of the other family last (see below). */
export function candidateTiles(software: boolean, direction: ConvDirection, g: Conv3dGeometry): ConvTile[] {
  const channels = dstChannels(direction, g);
  const fitsChannels = (bc: number) => bc <= Math.max(4, roundUp4(channels));
  const blocked: ConvTile[] =
    direction === 'backwardWeight'
      ? [
          { family: 'blocked', bv: 8, bc: 8 },
          { family: 'blocked', bv: 16, bc: 8 },
          { family: 'blocked', bv: 8, bc: 16 },
          { family: 'blocked', bv: 16, bc: 16 },
        ]
      : [
          { family: 'blocked', bv: 8, bc: 8 },
          { family: 'blocked', bv: 16, bc: 8 },
          { family: 'blocked', bv: 8, bc: 16 },
          { family: 'blocked', bv: 16, bc: 16 },
        ].filter((t) => fitsChannels(t.bc) || t.bc === 8) as ConvTile[];
  const tiled: ConvTile[] =
    direction === 'backwardWeight'
      ? [
          { family: 'tiled', tm: 32, tn: 64, tk: 16, rm: 2, rn: 4 },
          { family: 'tiled', tm: 64, tn: 64, tk: 16, rm: 4, rn: 4 },
          { family: 'tiled', tm: 16, tn: 128, tk: 16, rm: 1, rn: 8 },
        ]
      : [
          { family: 'tiled', tm: 128, tn: 16, tk: 16, rm: 8, rn: 1 },
          { family: 'tiled', tm: 64, tn: 32, tk: 16, rm: 4, rn: 2 },
          { family: 'tiled', tm: 64, tn: 64, tk: 16, rm: 4, rn: 4 },
          { family: 'tiled', tm: 128, tn: 64, tk: 16, rm: 8, rn: 4 },
        ].filter((t) => t.tn <= Math.max(16, channels * 2)) as ConvTile[];
  if (!software) return [...tiled, blocked[0]!];
  // On a software adapter a shared-memory tile runs some ten times slower than a register block: timing
  // one on a large convolution would cost seconds for nothing, so it competes on small ones only.
  return convFlops(g) <= SOFTWARE_TILED_TRIAL_FLOPS ? [...blocked, tiled[0]!] : blocked;
}

/** Above this many FLOPs, software adapters time register-blocked candidates only. */
export const SOFTWARE_TILED_TRIAL_FLOPS = 2e8;

export class Conv3dTuner {
  /** 'off': always the fixed default; 'on': the table's entry, else the default and the class is queued for tuning. */
  mode: 'on' | 'off' = 'on';
  /** Timed runs per candidate (after one untimed run that also compiles it); fewer on software adapters. */
  runs: number;
  private readonly entries = new Map<string, ConvTile>();
  private readonly pending = new Map<string, { direction: ConvDirection; geometry: Conv3dGeometry }>();

  constructor(readonly runtime: Runtime) {
    this.runs = runtime.adapter.software ? 1 : 5;
  }

  choose(direction: ConvDirection, g: Conv3dGeometry): ConvTile {
    const fallback = defaultTile(this.runtime.adapter.software, direction, g);
    if (this.mode === 'off') return fallback;
    const key = shapeClass(direction, g);
    const hit = this.entries.get(key);
    if (hit) return hit;
    if (!this.pending.has(key)) this.pending.set(key, { direction, geometry: structuredClone(g) });
    return fallback;
  }

  /** Shape classes used since the last tunePending() that have no table entry. */
  pendingClasses(): string[] {
    return [...this.pending.keys()];
  }

  async tunePending(): Promise<TuningResult[]> {
    const results: TuningResult[] = [];
    for (const [key, { direction, geometry }] of [...this.pending]) {
      results.push(await this.tune(direction, geometry));
      this.pending.delete(key);
    }
    return results;
  }

  /** Times the candidate tiles of one class on scratch buffers and records the fastest. */
  async tune(direction: ConvDirection, g: Conv3dGeometry, candidates = candidateTiles(this.runtime.adapter.software, direction, g)): Promise<TuningResult> {
    const rt = this.runtime;
    const taps = g.kernel[0] * g.kernel[1] * g.kernel[2];
    const xBytes = 4 * g.batch * g.input[0] * g.input[1] * g.input[2] * g.inChannels;
    const yBytes = 4 * g.batch * g.output[0] * g.output[1] * g.output[2] * g.outChannels;
    const wBytes = 4 * g.outChannels * taps * g.inChannels;
    const x = rt.buffer(xBytes, 'conv3d tuning x');
    const y = rt.buffer(yBytes, 'conv3d tuning y');
    const w = rt.buffer(wBytes, 'conv3d tuning w');
    const bias = rt.buffer(4 * g.outChannels, 'conv3d tuning bias');
    const launch = (tile: ConvTile, at: Conv3dGeometry) => {
      if (direction === 'forward') conv3dFastForwardWith(rt, tile, at, x, w, bias, y);
      else if (direction === 'backwardData') conv3dFastGradInputWith(rt, tile, at, y, w, x);
      else conv3dFastGradWeightWith(rt, tile, at, x, y, w);
    };
    const timings: TuningResult['timings'] = [];
    try {
      // Scratch contents do not matter for timing, but keep them finite (tests poison new buffers).
      for (const [buffer, bytes] of [[x, xBytes], [y, yBytes], [w, wBytes], [bias, 4 * g.outChannels]] as const) {
        rt.write(buffer, new Float32Array(bytes / 4));
      }
      const tiny = tinyGeometry(g);
      for (const tile of candidates) {
        // Compile first, on a few voxels with the same channels (hence the same pipelines): a software
        // adapter's compile of a large register block takes seconds, which must not count as its speed.
        launch(tile, tiny);
        await rt.sync();
        const best = timings.length ? Math.min(...timings.map((t) => t.ms)) : Infinity;
        const samples = [(await timeOnce(rt, () => launch(tile, g))).ms];
        // A candidate far behind after one timed run is not worth more runs.
        while (samples.length < this.runs && samples[0]! <= 3 * best) samples.push((await timeOnce(rt, () => launch(tile, g))).ms);
        timings.push({ tile, name: tileName(tile), ms: median(samples) });
      }
    } finally {
      for (const b of [x, y, w, bias]) rt.release(b);
    }
    timings.sort((a, b) => a.ms - b.ms);
    const key = shapeClass(direction, g);
    this.entries.set(key, timings[0]!.tile);
    this.pending.delete(key);
    return { shapeClass: key, best: timings[0]!.tile, timings };
  }

  exportTable(): TuningTable {
    return { version: 1, adapter: adapterKey(this.runtime), entries: Object.fromEntries(this.entries) };
  }

  /** Adopts the entries of a table taken on this same adapter; returns how many (0 for another adapter). */
  importTable(table: TuningTable): number {
    if (table?.version !== 1 || table.adapter !== adapterKey(this.runtime) || typeof table.entries !== 'object') return 0;
    let count = 0;
    for (const [key, tile] of Object.entries(table.entries)) {
      if (tile && (tile.family === 'blocked' || tile.family === 'tiled')) {
        this.entries.set(key, tile);
        this.pending.delete(key);
        count++;
      }
    }
    return count;
  }
}

/** The same convolution on at most kernel + 1 input voxels per axis: it uses the same pipelines. */
function tinyGeometry(g: Conv3dGeometry): Conv3dGeometry {
  const input = g.input.map((e, i) => Math.min(e, g.kernel[i]! + 1)) as Conv3dGeometry['input'];
  const output = input.map((e, i) => convOutputExtent(e, g.kernel[i]!, g.stride[i]!, g.padding[i]!)) as Conv3dGeometry['output'];
  return { ...g, input, output };
}

async function timeOnce(runtime: Runtime, work: () => void): Promise<{ ms: number }> {
  await runtime.sync();
  const start = performance.now();
  work();
  await runtime.sync();
  return { ms: performance.now() - start };
}

const tuners = new WeakMap<Runtime, Conv3dTuner>();

/** The tuner of a runtime (one per device: timings belong to the adapter). */
export function conv3dTuner(runtime: Runtime): Conv3dTuner {
  let tuner = tuners.get(runtime);
  if (!tuner) {
    tuner = new Conv3dTuner(runtime);
    tuners.set(runtime, tuner);
  }
  return tuner;
}
