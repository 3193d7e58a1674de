// Loading a trained Screener for inference (Node), with the errors a user needs when the file is not
// there or not a model. What needs no file system (the model's preprocessing, its description) is in
// describe.ts, shared with the page.
import { existsSync } from 'node:fs';
import type { Runtime } from '../gpu/runtime';
import { DataError } from '../data/errors';
import { readFileBytes } from '../data/files.node';
import { Screener } from './screener';

export { describeScreener, modelPreprocessing } from './describe';

export const TRAIN_HINT = 'make one with `screener train --data DIR --out MODEL.safetensors`';

export function loadScreener(runtime: Runtime, path: string): Screener {
  if (!existsSync(path)) throw new DataError(path, `no such model file (${TRAIN_HINT})`);
  return Screener.fromSafetensors(runtime, readFileBytes(path), path);
}
