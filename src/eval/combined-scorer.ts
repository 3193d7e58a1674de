// Screener and the intensity baseline as one method: each map standardised inside the body, then
// averaged. The two see different things (the baseline an intensity that is rare at a body position,
// Screener a descriptor that is rare given its context) and their scores live on unrelated scales
// (nats of a flow's NLL, -log of a histogram), so each is first brought to one scale per scan with
// statistics that a few anomalous voxels cannot move: the median and the median absolute deviation
// over the body. Nothing is learned or fitted on labels.
import type { PreprocessedScan } from '../data/preprocess/preprocess';
import type { AnomalyScorer } from './scorers';

/** A standard deviation from a median absolute deviation, for normally distributed values. */
const MAD_TO_SD = 1.4826;

/** (map - median) / (1.4826 * MAD), both over the voxels where body is non-zero (the whole map if none). */
export function standardiseInBody(map: Float32Array, body: Uint8Array): Float32Array {
  if (map.length !== body.length) throw new RangeError(`standardiseInBody: ${map.length} values and a ${body.length}-voxel body`);
  let inside = map.filter((_, i) => body[i] !== 0);
  if (inside.length === 0) inside = map.slice();
  const median = medianOf(inside);
  const deviations = inside.map((v) => Math.abs(v - median));
  const scale = MAD_TO_SD * medianOf(deviations);
  // A map constant over most of the body has no spread to divide by; it then only shifts the sum.
  const divisor = scale > 0 ? scale : 1;
  return map.map((v) => (v - median) / divisor);
}

function medianOf(values: Float32Array): number {
  const sorted = values.slice().sort();
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * A scorer that keeps the map of the last scan it scored, so that a combination and the method on its
 * own (both in one evaluation, which scores one case at a time) cost one scoring.
 */
export function rememberingLastScan(scorer: AnomalyScorer): AnomalyScorer {
  let last: { scan: PreprocessedScan; result: Promise<{ map: Float32Array; windows: number }> } | null = null;
  return {
    ...scorer,
    score(scan, onProgress) {
      if (last?.scan !== scan) last = { scan, result: scorer.score(scan, onProgress) };
      return last.result;
    },
  };
}

/** The mean of the parts' maps, each standardised inside the body; the parts share one preprocessing. */
export function combinedScorer(parts: readonly AnomalyScorer[]): AnomalyScorer {
  if (parts.length < 2) throw new RangeError(`combinedScorer: needs at least two methods, got ${parts.length}`);
  const key = (p: AnomalyScorer) => JSON.stringify(p.preprocess, Object.keys(p.preprocess).sort());
  const other = parts.find((p) => key(p) !== key(parts[0]!));
  if (other) throw new Error(`combinedScorer: ${other.name} preprocesses scans differently from ${parts[0]!.name}`);
  return {
    name: parts.map((p) => p.name).join('+'),
    description: `the mean of ${parts.map((p) => p.name).join(' and ')}, each map standardised inside the body (median, MAD): ${parts.map((p) => p.description).join('; ')}`,
    identity: `combined (median/MAD in the body, mean): ${parts.map((p) => p.identity).join(' | ')}`,
    preprocess: parts[0]!.preprocess,
    async score(scan, onProgress) {
      const sum = new Float32Array(scan.image.data.length);
      let windows = 0;
      for (const part of parts) {
        const result = await part.score(scan, onProgress);
        windows += result.windows;
        const standard = standardiseInBody(result.map, scan.body.data);
        for (let i = 0; i < sum.length; i++) sum[i]! += standard[i]! / parts.length;
      }
      return { map: sum, windows };
    },
  };
}

/**
 * The model and the baseline, each on its own and as one combined method, in that order: the model
 * and the baseline remember their last scan, so each is scored once per case for all three rows.
 */
export function withCombination(model: AnomalyScorer, baseline: AnomalyScorer): [AnomalyScorer, AnomalyScorer, AnomalyScorer] {
  const remembered = [rememberingLastScan(model), rememberingLastScan(baseline)] as const;
  return [...remembered, combinedScorer(remembered)];
}
