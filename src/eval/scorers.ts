// The methods an evaluation compares. Each scorer turns a preprocessed scan into an anomaly map on the
// preprocessed grid; the evaluation puts every map back onto the original grid the same way
// (anomalyOnOriginalGrid) and scores them all over the same body voxels. A combined method makes its
// map from other scorers' maps on the original grid, so its parts may each preprocess as they work best.
import type { Runtime } from '../gpu/runtime';
import { resolvePreprocessOptions, type PreprocessOptions, type PreprocessRequest, type PreprocessedScan } from '../data/preprocess/preprocess';
import { predictModelMap, type WindowModel } from '../model/predict';
import { DEFAULT_OVERLAP } from '../model/window-placement';
import { IntensityAtlas, INTENSITY_BASELINE_DEFINITION } from './intensity-baseline';

/** What every evaluated method has: its row's label and what its maps depend on. */
export interface MethodInfo {
  /** Row label in the tables and key in the JSON ("screener", "intensity", "masked-flow", ...). */
  readonly name: string;
  /** One sentence for the report: what the method is and where its weights or statistics came from. */
  readonly description: string;
  /**
   * Everything its maps depend on (weights, overlap, what a baseline was fitted on), so that maps
   * kept from an earlier run are reused only for the same method.
   */
  readonly identity: string;
}

export interface AnomalyScorer extends MethodInfo {
  readonly preprocess: PreprocessOptions;
  /** The anomaly map on the scan's preprocessed grid (higher = more anomalous). */
  score(scan: PreprocessedScan, onProgress?: (done: number, total: number) => void): Promise<{ map: Float32Array; windows: number }>;
}

/** A method whose map is made from its parts' maps on the scan's original grid (combined-scorer.ts). */
export interface CombinedMethod extends MethodInfo {
  readonly parts: readonly AnomalyScorer[];
  /** The combined map from the parts' maps (in the order of `parts`) and the body voxels the evaluation counts. */
  combine(maps: readonly Float32Array[], body: Uint8Array): Float32Array;
}

/** A row of an evaluation: a scorer, or a combination of scorers. */
export type EvalMethod = AnomalyScorer | CombinedMethod;

export function isCombined(method: EvalMethod): method is CombinedMethod {
  return 'parts' in method;
}

/** The scorer whose preprocessing gives an evaluation's body voxels when `method` is its first row. */
export function firstScorerOf(method: EvalMethod): AnomalyScorer {
  return isCombined(method) ? method.parts[0]! : method;
}

/** A sliding-window model (Screener) as a scorer. */
export function windowModelScorer(
  runtime: Runtime,
  model: WindowModel,
  info: { name: string; description: string; overlap?: number; weights?: string },
): AnomalyScorer {
  return {
    name: info.name,
    description: info.description,
    identity: `${info.description}; weights ${info.weights ?? 'unnamed'}; overlap ${info.overlap ?? DEFAULT_OVERLAP}`,
    preprocess: model.preprocess,
    score: (scan, onProgress) => predictModelMap(runtime, model, scan, { onProgress, overlap: info.overlap }),
  };
}

/** The intensity-outlier baseline, fitted beforehand on scans preprocessed with the same options. */
export function intensityScorer(atlas: IntensityAtlas, info: { fitSource: string; preprocess: PreprocessRequest }): AnomalyScorer {
  return {
    name: 'intensity',
    description: `${INTENSITY_BASELINE_DEFINITION}; fitted on ${atlas.scans} scans from ${info.fitSource}`,
    identity: `${INTENSITY_BASELINE_DEFINITION}; fitted on ${atlas.scans} scans from ${info.fitSource}; ${JSON.stringify(resolvePreprocessOptions(info.preprocess))}`,
    preprocess: resolvePreprocessOptions(info.preprocess),
    async score(scan) {
      return { map: atlas.score({ data: scan.image.data, shape: scan.image.shape }), windows: 0 };
    },
  };
}
