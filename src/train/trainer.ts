// Screener's three training loops behind one driver: AdamW with linear warm-up and cosine decay,
// gradient-norm clipping, one submission per step (the loss is the only readback), checkpoints every
// K steps and resume, and a stop with the step number at the first non-finite loss.
//
// Everything a step draws (the scan, the crops, the masks, the density noise) derives from
// (seed, stage, step), so a resumed run repeats exactly the steps an uninterrupted one would take.
// The driver imports no Node built-ins: the caller decides where checkpoints go.
import type { Runtime } from '../gpu/runtime';
import { AdamW, backward, deriveSeed, MLP, type Tensor, tidy, warmupCosine } from '../graph/index';
import { Rng } from '../data/rng';
import { STAGES, type OptimConfig, type Stage } from '../model/config';
import type { Screener } from '../model/screener';
import { sampleDensityBatch, sampleSslBatch } from './batches';
import { BankFiller } from './bank';
import { KnnDensity } from '../model/density';
import type { TrainingScan } from './scans';
import { densityLoss, sslLoss } from './stage-losses';

export interface LossRecord {
  stage: Stage;
  /** 1-based step within the stage. */
  step: number;
  loss: number;
  lr: number;
  /** Wall-clock seconds the step took (not part of what must reproduce). */
  seconds: number;
}

/** Where a run stands: `step` steps of `steps` done in `stage`. */
export interface TrainingPosition {
  stage: Stage;
  step: number;
  steps: number;
}

export interface TrainerHooks {
  /** Called after each step (and after its checkpoint, when one was due). */
  onStep?(record: LossRecord, position: TrainingPosition): void;
  /** Receives a checkpoint every checkpointEvery steps and at the end of the stage. */
  saveCheckpoint?(position: TrainingPosition): Promise<void>;
  /** Checked after every step; an aborted signal stops the stage with TrainingInterrupted. */
  signal?: AbortSignal;
}

export class NonFiniteLossError extends Error {
  override name = 'NonFiniteLossError';
  constructor(
    readonly stage: Stage,
    readonly step: number,
    readonly loss: number,
    readonly lastCheckpoint: TrainingPosition | null,
  ) {
    super(
      `${stage} stage: the loss at step ${step} is ${loss}; training stopped. ` +
        (lastCheckpoint ? `The last good checkpoint (${lastCheckpoint.stage} step ${lastCheckpoint.step}) is intact.` : 'No checkpoint had been written yet.'),
    );
  }
}

export class TrainingInterrupted extends Error {
  override name = 'TrainingInterrupted';
  constructor(readonly position: TrainingPosition) {
    super(`training interrupted after ${position.stage} step ${position.step}`);
  }
}

export type SslStage = Exclude<Stage, 'density'>;

/** Saved optimiser state waiting for its stage to start (after a restore). */
export interface PendingOptimizerState {
  stage: Stage;
  step: number;
  params: Map<string, { step: number; m: Float32Array; v: Float32Array }>;
}

/** Where a saved run stood, as `restore()` takes it back (the weights are loaded beside it). */
export interface TrainerState {
  position: TrainingPosition | null;
  history: readonly LossRecord[];
  /** The AdamW moments of the stage in `position`, when it was part-way through. */
  optimizer: PendingOptimizerState | null;
}

export class ScreenerTrainer {
  /** The SSL heads, trained with their networks and kept in checkpoints (not in the model file). */
  readonly projectors = new Map<SslStage, MLP>();
  private losses: LossRecord[] = [];
  private currentPosition: TrainingPosition | null = null;
  /** Where the last checkpoint was written (or restored from): named when a non-finite loss stops a run. */
  private lastCheckpoint: TrainingPosition | null = null;
  /** Set by restore(): moments to load when the stage in `position` resumes. */
  private pendingOptimizer: PendingOptimizerState | null = null;
  /**
   * When set, step s draws the data of step s % repeatData: 1 trains on one batch over and over (to
   * check that a stage can fit anything at all). Null (the default) draws fresh data every step.
   */
  repeatData: number | null = null;
  private optimizer: AdamW | null = null;

  constructor(
    readonly runtime: Runtime,
    readonly model: Screener,
    readonly scans: readonly TrainingScan[],
    readonly seed: number,
  ) {
    checkScanSpacing(scans, model.config.targetSpacing);
    const d = model.config.descriptor.embedding;
    const widths = model.config.ssl.projector;
    this.projectors.set('descriptor', new MLP(runtime, [d, ...widths], 'relu', { seed: deriveSeed(seed, 11) }));
    if (model.conditionNet) {
      this.projectors.set('condition', new MLP(runtime, [model.config.condition.embedding, ...widths], 'relu', { seed: deriveSeed(seed, 12) }));
    }
  }

  /** Every step taken so far, restored ones included. */
  get history(): readonly LossRecord[] {
    return this.losses;
  }

  /** Where the run stands; null before the first step (or after startOver). */
  get position(): TrainingPosition | null {
    return this.currentPosition;
  }

  /**
   * Puts the trainer where a saved run stood: the next trainStage of the stage in `position`
   * continues after its last step with the saved optimiser moments, and the history goes on from
   * the saved one. The saved position counts as the last good checkpoint.
   */
  restore(state: TrainerState): void {
    this.currentPosition = state.position && { ...state.position };
    this.lastCheckpoint = state.position && { ...state.position };
    this.losses = [...state.history];
    this.pendingOptimizer = state.optimizer;
  }

  /** Forgets where the run stood, so that the next trainStage starts its stage at step 0. */
  startOver(): void {
    this.currentPosition = null;
  }

  /** Stages this model trains, in order: the condition network only exists for the 'masked' condition. */
  get stages(): Stage[] {
    return STAGES.filter((s) => s !== 'condition' || this.model.conditionNet !== null);
  }

  /** The parameters a stage trains, by the names its optimiser state is saved under. */
  stageParameters(stage: Stage): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    const add = (prefix: string, params: Map<string, Tensor>) => {
      for (const [name, t] of params) out.set(`${prefix}.${name}`, t);
    };
    if (stage === 'density') add('density', this.model.density.namedParameters());
    else {
      const network = stage === 'descriptor' ? this.model.descriptor : this.model.conditionNet;
      if (!network) throw new Error('this model has no condition network (its density condition is not "masked")');
      add(stage, network.namedParameters());
      add(`projector.${stage}`, this.projectors.get(stage)!.namedParameters());
    }
    return out;
  }

  /** The optimiser of the stage in progress (its state goes into checkpoints). */
  get currentOptimizer(): AdamW | null {
    return this.optimizer;
  }

  /**
   * Trains `stage` for `steps` steps in all (continuing from `position` when it is this stage's),
   * returning the stage's last loss.
   */
  async trainStage(stage: Stage, steps: number, hooks: TrainerHooks = {}): Promise<number> {
    if (!Number.isInteger(steps) || steps < 1) throw new RangeError(`${stage} stage: steps must be a positive integer, got ${steps}`);
    const config = this.model.config;
    const optim: OptimConfig = stage === 'density' ? config.train.density : config.train.ssl;
    const resuming = this.currentPosition?.stage === stage && this.currentPosition.step > 0;
    const start = resuming ? this.currentPosition!.step : 0;
    if (start > steps) throw new RangeError(`${stage} stage: the checkpoint is at step ${start}, beyond the ${steps} steps asked for`);
    this.currentPosition = { stage, step: start, steps };

    this.optimizer?.dispose();
    this.optimizer = null;
    // A knn density is filled, not trained: no optimiser, no schedule, the same steps and checkpoints.
    const bank = stage === 'density' && this.model.density instanceof KnnDensity ? await BankFiller.start(this.runtime, this.model.density, steps) : null;
    let schedule = (_step: number) => 0;
    if (!bank) {
      this.optimizer = new AdamW(this.stageParameters(stage), { lr: optim.lr, weightDecay: optim.weightDecay });
      if (resuming && this.pendingOptimizer?.stage === stage) this.optimizer.loadState({ step: this.pendingOptimizer.step, params: this.pendingOptimizer.params });
      schedule = warmupCosine({ peakLr: optim.lr, warmupSteps: Math.min(optim.warmupSteps, steps - 1), totalSteps: steps, minLr: optim.lr * 0.01 });
      if (stage === 'density' && !resuming && !this.model.trainedStages.has('density')) this.model.density.setDataInitialisation(true);
    }
    this.pendingOptimizer = null;

    const stageIndex = STAGES.indexOf(stage);
    const dataSeed = deriveSeed(this.seed, 1000 + stageIndex);
    const noiseSeed = deriveSeed(this.seed, 2000 + stageIndex);
    let last = NaN;
    for (let step = start; step < steps; step++) {
      const started = performance.now();
      const lr = schedule(step);
      const dataStep = this.repeatData ? step % this.repeatData : step;
      const rng = new Rng(deriveSeed(dataSeed, dataStep) % 2 ** 32);
      const value = bank ? await bank.step(this.model, sampleDensityBatch(this.scans, config, rng), step, rng) : await this.gradientStep(stage, rng, deriveSeed(noiseSeed, dataStep), lr, optim.clipNorm);
      if (!Number.isFinite(value)) throw new NonFiniteLossError(stage, step + 1, value, this.lastCheckpoint);
      last = value;
      const record: LossRecord = { stage, step: step + 1, loss: value, lr, seconds: (performance.now() - started) / 1000 };
      this.losses.push(record);
      const position = { stage, step: step + 1, steps };
      this.currentPosition = position;
      const due = (step + 1) % config.train.checkpointEvery === 0 || step + 1 === steps;
      if (step + 1 === steps) this.model.trainedStages.add(stage);
      if (due && hooks.saveCheckpoint) {
        await hooks.saveCheckpoint(position);
        this.lastCheckpoint = { ...position };
      }
      hooks.onStep?.(record, position);
      if (hooks.signal?.aborted && step + 1 < steps) throw new TrainingInterrupted(position);
    }
    return last;
  }

  /** One optimiser step of a trained stage; returns its loss. */
  private async gradientStep(stage: Stage, rng: Rng, noiseSeed: number, lr: number, clipNorm: number): Promise<number> {
    const optimizer = this.optimizer!;
    optimizer.lr = lr;
    const loss = tidy(() => {
      const value = this.stepLoss(stage, rng, noiseSeed);
      backward(value);
      optimizer.step({ maxGradNorm: clipNorm });
      return value;
    });
    const value = await loss.item();
    loss.dispose();
    optimizer.zeroGrad();
    return value;
  }

  private stepLoss(stage: Stage, rng: Rng, noiseSeed: number): Tensor {
    const config = this.model.config;
    if (stage === 'density') return densityLoss(this.runtime, this.model, sampleDensityBatch(this.scans, config, rng), noiseSeed);
    const network = stage === 'descriptor' ? this.model.descriptor : this.model.conditionNet!;
    const batch = sampleSslBatch(this.scans, config, rng, stage === 'condition');
    return sslLoss(this.runtime, config, network, this.projectors.get(stage)!, batch);
  }

  /** The last loss of each stage in the history. */
  finalLosses(): Partial<Record<Stage, number>> {
    const out: Partial<Record<Stage, number>> = {};
    for (const r of this.losses) out[r.stage] = r.loss;
    return out;
  }

  dispose(): void {
    this.optimizer?.dispose();
    this.optimizer = null;
    for (const p of this.projectors.values()) p.dispose();
  }
}

/**
 * Every scan a model trains on must have been preprocessed to the model's voxel size: a descriptor
 * trained at one scale and run at another learns nothing useful, and nothing downstream would notice.
 * Preprocessing meets the spacing to within half a voxel over the scan's extent.
 */
export function checkScanSpacing(scans: readonly TrainingScan[], target: readonly number[]): void {
  for (const scan of scans) {
    for (let a = 0; a < 3; a++) {
      const tolerance = target[a]! * (0.5 / Math.max(1, scan.shape[a]! - 0.5) + 1e-6);
      if (!(Math.abs(scan.spacing[a]! - target[a]!) <= tolerance)) {
        throw new Error(
          `${scan.id}: preprocessed to ${scan.spacing.map((v) => +v.toFixed(3)).join(' x ')} mm, but the model works at ${target.join(' x ')} mm; ` +
            'preprocess the scans with the model\'s own preprocessing (configPreprocessing of its config)',
        );
      }
    }
  }
}
