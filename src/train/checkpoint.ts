// Checkpoints: one .safetensors file with everything a run needs to continue exactly where it stood:
// the model's tensors (same names as the model file), the SSL projectors, the AdamW moments of the
// stage in progress, and in __metadata__ the config, the seed, the position and the loss history.
import type { Runtime } from '../gpu/runtime';
import { DataError } from '../data/errors';
import { STAGES, type ScreenerConfig, type Stage } from '../model/config';
import { validateConfig } from '../model/validate-config';
import { decodeSafetensors, encodeSafetensors, type TensorToWrite } from '../model/safetensors';
import { checkedFloat32 } from '../model/weights';
import { Screener } from '../model/screener';
import type { TrainingScan } from './scans';
import { ScreenerTrainer, type LossRecord, type PendingOptimizerState, type TrainingPosition } from './trainer';

const FORMAT = 'screener-checkpoint';

export async function encodeCheckpoint(trainer: ScreenerTrainer): Promise<Uint8Array> {
  const entries: [string, TensorToWrite][] = [];
  for (const [name, t] of trainer.model.namedTensors()) entries.push([name, { shape: t.shape, data: await t.read() }]);
  for (const [stage, projector] of trainer.projectors) {
    for (const [name, t] of projector.namedParameters()) entries.push([`projector.${stage}.${name}`, { shape: t.shape, data: await t.read() }]);
  }
  const optimizer = trainer.currentOptimizer;
  const optimizerSteps: Record<string, number> = {};
  if (optimizer && trainer.position && trainer.position.step < trainer.position.steps) {
    for (const [name, s] of optimizer.getState().params) {
      optimizerSteps[name] = s.step;
      entries.push([`optimizer.m.${name}`, { shape: s.m.shape, data: await s.m.read() }]);
      entries.push([`optimizer.v.${name}`, { shape: s.v.shape, data: await s.v.read() }]);
    }
  }
  return encodeSafetensors(entries, {
    format: FORMAT,
    config: JSON.stringify(trainer.model.config),
    trained_stages: STAGES.filter((s) => trainer.model.trainedStages.has(s)).join(','),
    seed: String(trainer.seed),
    position: JSON.stringify(trainer.position),
    optimizer: JSON.stringify({ step: optimizer?.stepCount ?? 0, params: optimizerSteps }),
    history: JSON.stringify(trainer.history.map((r) => [r.stage, r.step, r.loss, r.lr, r.seconds])),
  });
}

function parseJson<T>(source: string, key: string, text: string | undefined): T {
  if (text === undefined) throw new DataError(source, `not a Screener checkpoint: __metadata__ lacks "${key}"`);
  try {
    return JSON.parse(text) as T;
  } catch (error) {
    throw new DataError(source, `__metadata__ "${key}" is not valid JSON (${error instanceof Error ? error.message : String(error)})`);
  }
}

export interface CheckpointSummary {
  config: ScreenerConfig;
  seed: number;
  position: TrainingPosition | null;
  trainedStages: Stage[];
}

/** Reads just what a checkpoint says about the run (no device work). */
export function readCheckpointSummary(bytes: Uint8Array, source: string): CheckpointSummary {
  const { metadata } = decodeSafetensors(bytes, source);
  if (metadata.format !== FORMAT) throw new DataError(source, `not a Screener checkpoint (format ${JSON.stringify(metadata.format ?? null)})`);
  const config = parseJson<ScreenerConfig>(source, 'config', metadata.config);
  try {
    validateConfig(config, 'config');
  } catch (error) {
    throw new DataError(source, error instanceof Error ? error.message : String(error));
  }
  const seed = Number(metadata.seed);
  if (!Number.isSafeInteger(seed) || seed < 0) throw new DataError(source, `__metadata__ seed ${JSON.stringify(metadata.seed)} is not a non-negative integer`);
  const trainedStages = (metadata.trained_stages ?? '').split(',').filter((s): s is Stage => (STAGES as readonly string[]).includes(s));
  return { config, seed, position: parseJson<TrainingPosition | null>(source, 'position', metadata.position), trainedStages };
}

/** A trainer (and its model) in the state the checkpoint recorded. */
export function restoreCheckpoint(runtime: Runtime, bytes: Uint8Array, source: string, scans: readonly TrainingScan[]): ScreenerTrainer {
  const { metadata, tensors } = decodeSafetensors(bytes, source);
  const summary = readCheckpointSummary(bytes, source);
  const model = Screener.create(runtime, summary.config, summary.seed);
  const trainer = new ScreenerTrainer(runtime, model, scans, summary.seed);
  try {
    const values = (name: string) => checkedFloat32(tensors.get(name)!, name, source);
    const modelState = new Map<string, Float32Array>();
    for (const name of model.namedTensors().keys()) {
      if (!tensors.has(name)) throw new DataError(source, `checkpoint lacks model tensor "${name}"`);
      modelState.set(name, values(name));
    }
    model.loadState(modelState, source);
    model.trainedStages = new Set(summary.trainedStages);
    for (const [stage, projector] of trainer.projectors) {
      const state = new Map<string, Float32Array>();
      for (const name of projector.namedParameters().keys()) {
        const key = `projector.${stage}.${name}`;
        if (!tensors.has(key)) throw new DataError(source, `checkpoint lacks projector tensor "${key}"`);
        state.set(name, values(key));
      }
      projector.loadState(state);
    }
    const optimizer = parseJson<{ step: number; params: Record<string, number> }>(source, 'optimizer', metadata.optimizer);
    let pending: PendingOptimizerState | null = null;
    if (summary.position && Object.keys(optimizer.params).length) {
      const params = new Map<string, { step: number; m: Float32Array; v: Float32Array }>();
      for (const [name, step] of Object.entries(optimizer.params)) {
        for (const part of ['m', 'v']) if (!tensors.has(`optimizer.${part}.${name}`)) throw new DataError(source, `checkpoint lacks optimizer tensor "optimizer.${part}.${name}"`);
        params.set(name, { step, m: values(`optimizer.m.${name}`), v: values(`optimizer.v.${name}`) });
      }
      pending = { stage: summary.position.stage, step: optimizer.step, params };
    }
    const history = parseJson<[Stage, number, number, number, number][]>(source, 'history', metadata.history);
    trainer.restore({
      position: summary.position,
      history: history.map(([stage, step, loss, lr, seconds]): LossRecord => ({ stage, step, loss, lr, seconds })),
      optimizer: pending,
    });
  } catch (error) {
    trainer.dispose();
    model.dispose();
    throw error;
  }
  return trainer;
}
