// Loading a trained Screener for inference (Node), with the errors a user needs when the file is not
// there or not a model. What needs no file system (the model's preprocessing, its description) is in
// describe.ts, shared with the page.
import { existsSync } from 'node:fs';
import type { Runtime } from '../gpu/runtime';
import { DataError } from '../data/errors';
import { readFileBytes } from '../data/io/files.node';
import { Screener } from './screener';
import type { AnomalyOptions } from './config';
import { readScreenerWeights, withAnomalyOptions, type ScreenerWeights } from './weights';

export { describeScreener } from './describe';

export const TRAIN_HINT = 'make one with `screener train --data DIR --out MODEL.safetensors`';

/** A model file's config and tensors, checked on the CPU (no GPU work yet). */
export function readScreenerFile(path: string): ScreenerWeights {
  if (!existsSync(path)) throw new DataError(path, `no such model file (${TRAIN_HINT})`);
  return readScreenerWeights(readFileBytes(path), path);
}

/** A model file on the GPU; the anomaly options given replace those its config names. */
export function loadScreener(runtime: Runtime, path: string, anomaly: AnomalyOptions = {}): Screener {
  return Screener.fromWeights(runtime, withAnomalyOptions(readScreenerFile(path), anomaly, path), path);
}
