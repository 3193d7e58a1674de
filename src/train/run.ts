// A whole training run: pick up a checkpoint or a starting model, train the stages in order, and keep
// the files beside the output up to date: the model (after each stage), the checkpoint (every K
// steps), the loss CSV and its PNG plot. The files are reached through `RunFiles`, so the same run
// works wherever the GPU is: in Node on the local disk (run.node.ts), or in a page that hands every
// byte to the Node process that launched it (`screener train --runtime chromium`). No Node imports.
import type { Runtime } from '../gpu/runtime';
import { DataError } from '../data/errors';
import { configPreprocessing, type ScreenerConfig, type Stage } from '../model/config';
import { validateConfig } from '../model/validate-config';
import { Screener } from '../model/screener';
import { encodeCheckpoint, readCheckpointSummary, restoreCheckpoint } from './checkpoint';
import { lossesCsv, plotLosses } from './curves';
import type { RunSummary } from './progress';
import type { TrainingScan } from './scans';
import { ScreenerTrainer, type LossRecord, type TrainingPosition } from './trainer';

export interface TrainPaths {
  model: string;
  checkpoint: string;
  csv: string;
  png: string;
}

/** How a training checkpoint's file name ends (written beside the model; not a model itself). */
export const CHECKPOINT_SUFFIX = '.checkpoint.safetensors';

/** model.safetensors -> model.checkpoint.safetensors, model.losses.csv, model.losses.png. */
export function trainPaths(out: string): TrainPaths {
  const base = out.replace(/\.safetensors$/i, '');
  return { model: out, checkpoint: `${base}${CHECKPOINT_SUFFIX}`, csv: `${base}.losses.csv`, png: `${base}.losses.png` };
}

/** Where a run's files live. Writes must be whole: a temporary name renamed into place. */
export interface RunFiles {
  /** The file's bytes, or null when there is no such file. */
  read(path: string): Promise<Uint8Array | null>;
  write(path: string, bytes: Uint8Array): Promise<void>;
}

export interface TrainRunOptions {
  runtime: Runtime;
  files: RunFiles;
  scans: readonly TrainingScan[];
  out: string;
  /** The config for a fresh run (ignored on resume, where the checkpoint's config rules). */
  config: ScreenerConfig;
  seed: number;
  /** Only this stage; default every stage the model has, in order. */
  stage?: Stage;
  /** Steps per stage; default the config's. */
  steps?: number;
  resume?: boolean;
  /** Start from the descriptor/condition (and, when the density config agrees, density) weights of this model file. */
  from?: string;
  onStep?(record: LossRecord, position: TrainingPosition): void;
  log?(line: string): void;
  signal?: AbortSignal;
}

export interface TrainRunResult extends RunSummary {
  paths: TrainPaths;
  history: LossRecord[];
}

/** Copies every tensor whose name and size agree from a saved model into `model`; returns how many. */
function adoptWeights(model: Screener, source: Screener, prefixes: string[]): number {
  const own = model.namedTensors();
  let copied = 0;
  for (const [name, t] of source.namedTensors()) {
    const target = own.get(name);
    if (!target || target.size !== t.size || !prefixes.some((p) => name.startsWith(`${p}.`))) continue;
    target.runtime.copy(t.buffer, 0, target.buffer, 0, t.size * 4);
    copied++;
  }
  return copied;
}

async function startingTrainer(o: TrainRunOptions, paths: TrainPaths, log: (line: string) => void): Promise<ScreenerTrainer> {
  if (o.resume) {
    const bytes = await o.files.read(paths.checkpoint);
    if (!bytes) throw new Error(`--resume: no checkpoint at ${paths.checkpoint}`);
    const summary = readCheckpointSummary(bytes, paths.checkpoint);
    const where = summary.position ? `${summary.position.stage} step ${summary.position.step}/${summary.position.steps}` : 'the start';
    log(`resuming from ${paths.checkpoint} at ${where} (seed ${summary.seed}, ${summary.config.preset} preset)`);
    return restoreCheckpoint(o.runtime, bytes, paths.checkpoint, o.scans);
  }
  const config = validateConfig(structuredClone(o.config));
  // A later stage alone continues the model already at the output, when there is one.
  const fromBytes = o.from !== undefined ? await o.files.read(o.from) : o.stage && o.stage !== 'descriptor' ? await o.files.read(paths.model) : null;
  if (o.from !== undefined && !fromBytes) throw new DataError(o.from, 'no such file');
  const model = Screener.create(o.runtime, config, o.seed);
  if (fromBytes) {
    const from = o.from ?? paths.model;
    let source: Screener;
    try {
      source = Screener.fromSafetensors(o.runtime, fromBytes, from);
    } catch (error) {
      model.dispose(); // a bad starting file must not leave the new model's weights on the GPU
      throw error;
    }
    try {
      // Networks that learned another HU window read every intensity differently: not a starting point.
      const [was, now] = [configPreprocessing(source.config).huWindow, configPreprocessing(config).huWindow];
      if (was[0] !== now[0] || was[1] !== now[1]) {
        throw new DataError(from, `was trained with the HU window ${was.join(',')}, this run preprocesses with ${now.join(',')}; give --hu-window ${was.join(',')}`);
      }
      const sameDensity = JSON.stringify(source.config.density) === JSON.stringify(config.density);
      const prefixes = ['descriptor', 'condition', ...(sameDensity ? ['density'] : [])];
      const copied = adoptWeights(model, source, prefixes);
      for (const stage of source.trainedStages) {
        const kept = stage === 'descriptor' || (stage === 'condition' && model.conditionNet !== null) || (stage === 'density' && sameDensity);
        if (kept) model.trainedStages.add(stage);
      }
      log(`starting from ${from}: ${copied} tensors (${[...model.trainedStages].join(', ') || 'no trained stages'})`);
    } catch (error) {
      model.dispose();
      throw error;
    } finally {
      source.dispose();
    }
  }
  return new ScreenerTrainer(o.runtime, model, o.scans, o.seed);
}

export async function driveTraining(o: TrainRunOptions): Promise<TrainRunResult> {
  const log = o.log ?? (() => {});
  const paths = trainPaths(o.out);
  const trainer = await startingTrainer(o, paths, log);
  const started = performance.now();
  const stepsDone: Partial<Record<Stage, number>> = {};
  try {
    const all = trainer.stages;
    if (o.stage && !all.includes(o.stage)) throw new Error(`this model has no ${o.stage} stage (its density condition is "${trainer.model.config.density.condition}")`);
    let stages = o.stage ? [o.stage] : all;
    const position = trainer.position;
    if (o.resume && position && !o.stage) {
      // Skip the stages the checkpoint has finished.
      const at = all.indexOf(position.stage);
      stages = all.slice(position.step >= position.steps ? at + 1 : at);
    }
    // Only the density reads the descriptor: the condition network learns from its own masked crops.
    if (stages.includes('density') && !trainer.model.trainedStages.has('descriptor') && !stages.includes('descriptor')) {
      log('warning: the descriptor network is untrained (train it first, or pass --from MODEL)');
    }
    // A knn model (no condition network) as --from for a conditioned density, say. Only the density
    // reads the condition: training the descriptor alone needs none.
    if (all.includes('condition') && stages.includes('density') && !trainer.model.trainedStages.has('condition') && !stages.includes('condition')) {
      log('warning: the condition network is untrained (train the condition stage first, or pass --from a MODEL that has one)');
    }
    const saveFiles = async (withCheckpoint: boolean) => {
      if (withCheckpoint) await o.files.write(paths.checkpoint, await encodeCheckpoint(trainer));
      await o.files.write(paths.csv, new TextEncoder().encode(lossesCsv(trainer.history)));
      if (trainer.history.length) await o.files.write(paths.png, plotLosses(trainer.history));
    };
    for (const stage of stages) {
      const resumingThis = trainer.position?.stage === stage && trainer.position.step > 0 && trainer.position.step < trainer.position.steps;
      const steps = o.steps ?? (resumingThis ? trainer.position!.steps : trainer.model.config.train.steps[stage]);
      if (!resumingThis) trainer.startOver();
      const from = resumingThis ? trainer.position!.step : 0;
      log(`${stage} stage: ${from ? `steps ${from + 1}..${steps}` : `${steps} steps`}`);
      await trainer.trainStage(stage, steps, {
        onStep: o.onStep,
        signal: o.signal,
        saveCheckpoint: async () => saveFiles(true),
      });
      stepsDone[stage] = steps - from;
      // The file says how long each stage trained, also when --steps overrode the preset's count.
      trainer.model.config.train.steps[stage] = steps;
      await o.files.write(paths.model, await trainer.model.toSafetensors());
      log(`${stage} stage done: wrote ${paths.model}`);
    }
    await saveFiles(false);
    const seconds = (performance.now() - started) / 1000;
    return { steps: stepsDone, seconds, finalLosses: trainer.finalLosses(), paths, history: [...trainer.history] };
  } finally {
    trainer.model.dispose();
    trainer.dispose();
  }
}
