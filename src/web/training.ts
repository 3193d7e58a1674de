// Training a tiny model in the page: the demo's short-run configuration (tiny networks, 6 mm voxels),
// the trainer `screener train` drives, every stage in order on scans held in memory, and the weights
// as the .safetensors file the CLI loads.
import {
  configPreprocessing, demoTrainingConfig, generatePhantomCase, Screener, ScreenerTrainer, TRAINING_LESION_KINDS, trainingScanFromCt,
  type LossRecord, type Stage, type TrainingScan, type Volume, type VoxelArray,
} from '../screener';

/** Voxels per side of the training phantoms: enough at 6 mm, quick to generate. */
export const TRAINING_PHANTOM_SIZE = 64;

export interface TrainOptions {
  steps: number;
  seed: number;
  signal: AbortSignal;
  onStage(stage: Stage, stages: Stage[]): void;
  onStep(record: LossRecord): void;
}

/** Preprocesses CTs (HU) at the training spacing: each one is a few hundred milliseconds of CPU. */
export function trainingScans(cts: { name: string; ct: Volume<VoxelArray> }[]): TrainingScan[] {
  const preprocess = configPreprocessing(demoTrainingConfig(1));
  return cts.map(({ name, ct }) => trainingScanFromCt(ct, name, preprocess));
}

/** `count` phantoms with lesions of the trained kinds only, as `screener demo --train` makes them. */
export function trainingPhantom(seed: number, index: number): { name: string; ct: Volume<VoxelArray> } {
  const { ct } = generatePhantomCase({ seed, kinds: TRAINING_LESION_KINDS, size: TRAINING_PHANTOM_SIZE }, index);
  return { name: `training phantom ${index + 1}`, ct };
}

export async function trainInPage(runtime: Parameters<typeof Screener.create>[0], scans: TrainingScan[], o: TrainOptions): Promise<Uint8Array> {
  const model = Screener.create(runtime, demoTrainingConfig(o.steps), o.seed);
  const trainer = new ScreenerTrainer(runtime, model, scans, o.seed);
  try {
    for (const stage of trainer.stages) {
      o.signal.throwIfAborted();
      o.onStage(stage, trainer.stages);
      await trainer.trainStage(stage, o.steps, { onStep: (record) => o.onStep(record), signal: o.signal });
    }
    return await model.toSafetensors();
  } finally {
    trainer.dispose();
    model.dispose();
  }
}
