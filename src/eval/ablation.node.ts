// The paper's ablation grid: condition none / sin-cos / masking-invariant by density Gaussian / flow.
// A folder holds one model per cell, as `screener train --stage density --condition X --density Y`
// writes them; each model's own config says which cell it is (file names do not matter).
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Runtime } from '../gpu/runtime';
import { DataError } from '../data/errors';
import type { ConditionKind, DensityKind } from '../model/config';
import { loadScreener } from '../model/predict-load.node';
import type { Screener } from '../model/screener';
import { CHECKPOINT_SUFFIX } from '../train/run.node';

export const ABLATION_CONDITIONS: readonly ConditionKind[] = ['none', 'sincos', 'masked'];
export const ABLATION_DENSITIES: readonly DensityKind[] = ['gaussian', 'flow'];

export interface AblationModel {
  /** "condition-density", e.g. "masked-flow". */
  name: string;
  path: string;
  model: Screener;
}

export function ablationName(condition: ConditionKind, density: DensityKind): string {
  return `${condition}-${density}`;
}

/**
 * A model's place in the grid's table: the paper's cells row by row (condition, then density), and
 * after them any model outside the grid (a knn density, say), which is still scored.
 */
export function ablationOrder(condition: ConditionKind, density: DensityKind): number {
  const c = ABLATION_CONDITIONS.indexOf(condition);
  const d = ABLATION_DENSITIES.indexOf(density);
  return c < 0 || d < 0 ? ABLATION_CONDITIONS.length * ABLATION_DENSITIES.length : c * ABLATION_DENSITIES.length + d;
}

/** Loads every .safetensors model in `dir` (not training checkpoints), in grid order; lists the cells no model fills. */
export function loadAblationModels(runtime: Runtime, dir: string): { models: AblationModel[]; missing: string[] } {
  let files: string[];
  try {
    // Training checkpoints (FILE.checkpoint.safetensors, written beside each model) are not models.
    files = readdirSync(dir).filter((f) => f.endsWith('.safetensors') && !f.endsWith(CHECKPOINT_SUFFIX)).sort();
  } catch {
    throw new DataError(dir, 'no such folder of ablation models');
  }
  if (files.length === 0) throw new DataError(dir, 'no .safetensors models (train them with `screener train --stage density --condition X --density Y`)');
  const models: AblationModel[] = files.map((f) => {
    const model = loadScreener(runtime, join(dir, f));
    return { name: ablationName(model.config.density.condition, model.config.density.kind), path: join(dir, f), model };
  });
  const order = (m: AblationModel) => ablationOrder(m.model.config.density.condition, m.model.config.density.kind);
  models.sort((a, b) => order(a) - order(b) || (a.path < b.path ? -1 : 1));
  // Two models of the same cell keep both, told apart by file name.
  for (const m of models) if (models.filter((o) => o.name === m.name).length > 1) m.name = `${m.name} (${m.path.split(/[\\/]/).pop()})`;
  const missing = ABLATION_CONDITIONS.flatMap((c) => ABLATION_DENSITIES.map((d) => ablationName(c, d))).filter((n) => !models.some((m) => m.name.startsWith(n)));
  return { models, missing };
}
