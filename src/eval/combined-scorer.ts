// Screener and the intensity baseline as one method: each map standardised inside the body, then
// averaged. The two see different things (the baseline an intensity that is rare at a body position,
// Screener a descriptor that is rare given its context) and their scores live on unrelated scales
// (nats of a flow's NLL, -log of a histogram), so each is first brought to one scale per scan with
// statistics that a few anomalous voxels cannot move: the median and the median absolute deviation
// over the body. Nothing is learned or fitted on labels. The maps are combined on the scan's original
// grid, so each part may preprocess at its own voxel size (the baseline resolves small lesions better
// on a finer grid than the model's: bench/RESULTS.md).
import type { AnomalyScorer, CombinedMethod } from './scorers';

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

/** The mean of the parts' maps on the original grid, each standardised inside the evaluation's body. */
export function combinedScorer(parts: readonly AnomalyScorer[]): CombinedMethod {
  if (parts.length < 2) throw new RangeError(`combinedScorer: needs at least two methods, got ${parts.length}`);
  return {
    name: parts.map((p) => p.name).join('+'),
    description: `the mean of ${parts.map((p) => p.name).join(' and ')}, each map standardised inside the body (median, MAD): ${parts.map((p) => p.description).join('; ')}`,
    identity: `combined (median/MAD in the body, mean): ${parts.map((p) => p.identity).join(' | ')}`,
    parts,
    combine(maps, body) {
      if (maps.length !== parts.length) throw new RangeError(`combinedScorer: ${maps.length} maps for ${parts.length} parts`);
      const sum = new Float32Array(body.length);
      for (const map of maps) {
        const standard = standardiseInBody(map, body);
        for (let i = 0; i < sum.length; i++) sum[i]! += standard[i]! / maps.length;
      }
      return sum;
    },
  };
}

/**
 * The model and the baseline, each on its own and as one combined method, in that order. An evaluation
 * scores each scorer once per case and makes the combination from the same two maps.
 */
export function withCombination(model: AnomalyScorer, baseline: AnomalyScorer): [AnomalyScorer, AnomalyScorer, CombinedMethod] {
  return [model, baseline, combinedScorer([model, baseline])];
}
