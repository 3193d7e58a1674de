// Loading a trained Screener for inference (Node), with the errors a user needs when the file is not
// there or not a model, and a one-line description for reports.
import { existsSync } from 'node:fs';
import type { Runtime } from '../gpu/runtime';
import { DataError } from '../data/errors';
import { readFileBytes } from '../data/files.node';
import type { PreprocessOptions } from '../data/preprocess';
import { Screener } from './screener';
import { readScreenerWeights, type ScreenerWeights } from './weights';

export const TRAIN_HINT = 'make one with `screener train --data DIR --out MODEL.safetensors`';

/** A model file's config and tensors, checked on the CPU (no GPU work yet). */
export function readScreenerFile(path: string): ScreenerWeights {
  if (!existsSync(path)) throw new DataError(path, `no such model file (${TRAIN_HINT})`);
  return readScreenerWeights(readFileBytes(path), path);
}

export function loadScreener(runtime: Runtime, path: string): Screener {
  return Screener.fromWeights(runtime, readScreenerFile(path), path);
}

/** The preprocessing a model was trained with (its voxel spacing; the rest is the paper's). */
export function modelPreprocessing(model: Screener): Partial<PreprocessOptions> {
  return { targetSpacing: [...model.config.targetSpacing] };
}

/** "small, masked condition, flow density, 32x32x32 windows at 2.5 mm". */
export function describeScreener(model: Screener): string {
  const c = model.config;
  return `${c.preset} preset, ${c.density.condition} condition, ${c.density.kind} density, ${model.windowShape.join('x')} windows at ${c.targetSpacing.join('x')} mm`;
}
