// The methods an evaluation compares. Each turns a preprocessed scan into an anomaly map on the
// preprocessed grid; the evaluation puts every map back onto the original grid the same way
// (anomalyOnOriginalGrid) and scores them all over the same body voxels.
import type { Runtime } from '../gpu/runtime';
import { resolvePreprocessOptions, type PreprocessOptions, type PreprocessRequest, type PreprocessedScan } from '../data/preprocess/preprocess';
import { predictModelMap, type WindowModel } from '../model/predict';
import { DEFAULT_OVERLAP } from '../model/window-placement';
import { IntensityAtlas, INTENSITY_BASELINE_DEFINITION } from './intensity-baseline';

export interface AnomalyScorer {
  /** Row label in the tables and key in the JSON ("screener", "intensity", "masked-flow", ...). */
  readonly name: string;
  /** One sentence for the report: what the method is and where its weights or statistics came from. */
  readonly description: string;
  /**
   * Everything its maps depend on (weights, overlap, what a baseline was fitted on), so that maps
   * kept from an earlier run are reused only for the same method.
   */
  readonly identity: string;
  readonly preprocess: PreprocessOptions;
  /** The anomaly map on the scan's preprocessed grid (higher = more anomalous). */
  score(scan: PreprocessedScan, onProgress?: (done: number, total: number) => void): Promise<{ map: Float32Array; windows: number }>;
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
