// The healthy kNN tail of a descriptor network: a label-free figure of how evenly its descriptors cover
// normal tissue. Each scan's sampled body voxels are matched against a bank of another scan's body
// voxels; a voxel's rarity is the mean distance to its k nearest descriptors there. The tail is the
// ratio of a high quantile of those rarities to their median, averaged over the scans. A low tail says
// that almost every voxel of one body finds close matches in another; a high one says that some normal
// tissue already looks rare, which buries lesions among it. On the quality phantoms, descriptors trained
// by the PyTorch reference with a lower tail found the held-out lesion kind better; on ten of the
// engine's own seeds the link is weak and not significant (bench/RESULTS.md, "Choosing a descriptor
// without labels"). It needs no lesion mask, so choosing seeds by it keeps a held-out claim clean.
// Pure computation on the CPU: no GPU, no Node imports.
import { Rng } from '../data/rng';
import { percentile } from './bootstrap';

/** One scan's descriptors: row-major [voxels, d] (channels last), and which voxels are inside the body. */
export interface ScanDescriptors {
  id: string;
  features: Float32Array;
  channels: number;
  body: Uint8Array;
}

export interface TailOptions {
  /** Neighbours averaged per voxel (default 10). */
  k?: number;
  /** Query voxels per scan (default 3000). */
  queries?: number;
  /** Bank voxels per scan (default 20000). */
  bank?: number;
  /** The high quantile divided by the median (default 0.99). */
  quantile?: number;
  /** Seeds the voxel samples (default 0). */
  seed?: number;
}

export interface TailResult {
  /** The mean of the per-scan tails. */
  tail: number;
  /** Per scan: its queries matched against the next scan's bank (the last against the first). */
  perScan: { id: string; bankId: string; tail: number; median: number }[];
}

export const TAIL_DEFAULTS = { k: 10, queries: 3000, bank: 20000, quantile: 0.99, seed: 0 } as const;

/** Indices of `count` body voxels (body[i] = 1) drawn uniformly with replacement. */
export function sampleBodyVoxels(body: Uint8Array, count: number, rng: Rng): Uint32Array {
  const inside: number[] = [];
  for (let i = 0; i < body.length; i++) if (body[i]) inside.push(i);
  if (inside.length === 0) throw new RangeError('no voxel inside the body');
  const out = new Uint32Array(count);
  for (let i = 0; i < count; i++) out[i] = inside[Math.floor(rng.next() * inside.length)]!;
  return out;
}

/** The rows `indices` of a row-major [n, channels] array, packed. */
export function gatherRows(features: Float32Array, channels: number, indices: Uint32Array): Float32Array {
  const out = new Float32Array(indices.length * channels);
  indices.forEach((row, i) => out.set(features.subarray(row * channels, (row + 1) * channels), i * channels));
  return out;
}

/** Per query row, the mean Euclidean distance to its k nearest rows of `bank` (both [n, channels]). */
export function meanKnnDistances(queries: Float32Array, bank: Float32Array, channels: number, k: number): Float64Array {
  const nq = queries.length / channels;
  const nb = bank.length / channels;
  if (!Number.isInteger(nq) || !Number.isInteger(nb)) throw new RangeError('meanKnnDistances: lengths are not multiples of channels');
  if (!(Number.isInteger(k) && k >= 1 && k <= nb)) throw new RangeError(`meanKnnDistances: k must be in [1, ${nb}], got ${k}`);
  const out = new Float64Array(nq);
  const best = new Float64Array(k); // squared distances, ascending
  for (let q = 0; q < nq; q++) {
    best.fill(Infinity);
    const qo = q * channels;
    for (let b = 0; b < nb; b++) {
      const bo = b * channels;
      let d2 = 0;
      for (let c = 0; c < channels; c++) {
        const diff = queries[qo + c]! - bank[bo + c]!;
        d2 += diff * diff;
      }
      if (d2 >= best[k - 1]!) continue;
      let j = k - 1;
      while (j > 0 && best[j - 1]! > d2) {
        best[j] = best[j - 1]!;
        j--;
      }
      best[j] = d2;
    }
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.sqrt(best[j]!);
    out[q] = sum / k;
  }
  return out;
}

/** The q-quantile of values (linear between order statistics, as numpy's default). */
export function quantile(values: Float64Array, q: number): number {
  return percentile(Float64Array.from(values).sort(), q);
}

/** The healthy kNN tail of one descriptor network over two or more scans' descriptors. */
export function healthyKnnTail(scans: readonly ScanDescriptors[], options: TailOptions = {}): TailResult {
  const o = { ...TAIL_DEFAULTS, ...options };
  if (scans.length < 2) throw new RangeError(`healthyKnnTail: needs at least 2 scans, got ${scans.length}`);
  if (!(o.quantile > 0.5 && o.quantile < 1)) throw new RangeError(`healthyKnnTail: quantile must be in (0.5, 1), got ${o.quantile}`);
  const channels = scans[0]!.channels;
  for (const s of scans) {
    if (s.channels !== channels) throw new RangeError(`healthyKnnTail: ${s.id} has ${s.channels} channels, ${scans[0]!.id} ${channels}`);
    if (s.features.length !== s.body.length * channels) throw new RangeError(`healthyKnnTail: ${s.id}: ${s.features.length} values for ${s.body.length} voxels of ${channels} channels`);
    if (!s.body.includes(1)) throw new RangeError(`healthyKnnTail: ${s.id}: no voxel inside the body`);
  }
  const rng = new Rng(o.seed);
  const samples = scans.map((s) => ({
    queries: gatherRows(s.features, channels, sampleBodyVoxels(s.body, o.queries, rng)),
    bank: gatherRows(s.features, channels, sampleBodyVoxels(s.body, o.bank, rng)),
  }));
  const perScan = scans.map((s, i) => {
    const j = (i + 1) % scans.length;
    const rarity = meanKnnDistances(samples[i]!.queries, samples[j]!.bank, channels, o.k);
    const median = quantile(rarity, 0.5);
    // Half the voxels with exact twins in another body: the descriptor maps (nearly) everything alike.
    if (!(median > 0)) throw new RangeError(`healthyKnnTail: ${s.id}: the median rarity is ${median}; the descriptors do not tell voxels apart`);
    return { id: s.id, bankId: scans[j]!.id, tail: quantile(rarity, o.quantile) / median, median };
  });
  return { tail: perScan.reduce((sum, s) => sum + s.tail, 0) / perScan.length, perScan };
}
