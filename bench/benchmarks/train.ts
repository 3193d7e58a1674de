// One training step of each Screener stage (descriptor, condition, density) on phantom scans: crops/s,
// voxel pairs/s and GFLOP/s of the step's convolutions as a fraction of the adapter's FMA ceiling.
// Default: the `small` preset; --tiny or --base for the others; --quick times 2 steps instead of 5;
// --profile adds one step per stage with per-kernel timestamps and prints where its GPU time went.
// The peer is the same step in PyTorch on the CPU (bench/peers/), timed after the engine in the same
// run when python3 has torch; --no-peer skips it, --peer-cuda times it on CUDA instead.
import type { Benchmark, BenchCase } from '../harness';
import type { Runtime } from '../../src/gpu/runtime';
import { generatePhantom } from '../../src/data/phantom/phantom';
import { TRAINING_LESION_KINDS } from '../../src/data/phantom/lesions';
import { conditionChannels, configPreprocessing, presetConfig, type ScreenerConfig, type Stage } from '../../src/model/config';
import { Screener } from '../../src/model/screener';
import { DenseUNet } from '../../src/model/unet';
import { trainingScanFromCt } from '../../src/train/scans';
import { ScreenerTrainer } from '../../src/train/trainer';
import { torchTrainStep } from '../peers/torch';

/**
 * FLOPs of a step's convolutions (and of the flow's per-voxel channel mixing, which is a 1x1x1
 * convolution written as a matmul). Training a network costs its forward pass three times over (the
 * forward, the input gradient, the weight gradient); the frozen networks of the density stage run
 * forward only.
 */
export function stepFlops(config: ScreenerConfig, stage: Stage): number {
  const crops = 2 * config.train.batch;
  const crop = config.train.cropSize;
  if (stage !== 'density') return 3 * crops * DenseUNet.convFlops(stage === 'descriptor' ? config.descriptor : config.condition, crop);
  let frozen = DenseUNet.convFlops(config.descriptor, crop);
  if (config.density.condition === 'masked') frozen += DenseUNet.convFlops(config.condition, crop);
  const pooled = crop.reduce((p, s, a) => p * (s / config.density.poolStride[a]!), 1);
  const d = config.descriptor.embedding;
  const c = conditionChannels(config);
  const o = config.density;
  let density = 0;
  if (o.kind === 'gaussian') density = c ? 2 * pooled * 27 * (c * o.gaussianHidden + o.gaussianHidden * 2 * d) : 0;
  else {
    const half = Math.floor(d / 2);
    const coupling = (half + c) * o.flowHidden + o.flowHidden * o.flowHidden + o.flowHidden * 2 * (d - half);
    density = 2 * pooled * o.flowBlocks * (d * d + coupling + (c ? c * 2 * d : 0));
  }
  return crops * (frozen + 3 * density);
}

/** Runs `step` with per-kernel timestamps and prints the kernels that took most of its GPU time. */
async function printProfile(runtime: Runtime, step: () => Promise<unknown>, label: string): Promise<void> {
  runtime.profiling = true;
  try {
    await step();
    const times = [...(await runtime.profile()).entries()].sort((a, b) => b[1].totalMs - a[1].totalMs);
    const total = times.reduce((sum, [, t]) => sum + t.totalMs, 0);
    const dispatches = times.reduce((sum, [, t]) => sum + t.count, 0);
    console.error(`bench: train: ${label}: ${dispatches} dispatches, ${total.toFixed(0)} ms of kernel time; the largest:`);
    for (const [name, t] of times.slice(0, 12)) {
      console.error(`  ${name.padEnd(40)} ${String(t.count).padStart(5)} x  ${t.totalMs.toFixed(1).padStart(8)} ms  ${((100 * t.totalMs) / total).toFixed(1).padStart(5)} %`);
    }
  } finally {
    runtime.profiling = false;
  }
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export const train: Benchmark = {
  name: 'train',
  description: 'one training step per stage (crops/s, voxel pairs/s, convolution GFLOP/s vs the FMA ceiling)',
  options: {
    tiny: { type: 'boolean', description: 'the `tiny` preset instead of `small`' },
    base: { type: 'boolean', description: 'the `base` preset instead of `small`' },
    quick: { type: 'boolean', description: 'time 2 steps per stage instead of 5' },
    profile: { type: 'boolean', description: 'one more step per stage with per-kernel timestamps, and where its GPU time went' },
    'no-peer': { type: 'boolean', description: 'skip the PyTorch peer' },
    'peer-cuda': { type: 'boolean', description: 'run the PyTorch peer on CUDA instead of the CPU' },
  },
  async run({ runtime, options }) {
    const preset = options.tiny ? 'tiny' : options.base ? 'base' : 'small';
    const timed = options.quick ? 2 : 5;
    const config = presetConfig(preset);
    const scans = [1, 2].map((seed) => trainingScanFromCt(generatePhantom({ seed, size: 64, kindPool: TRAINING_LESION_KINDS }).ct, `phantom ${seed}`, configPreprocessing(config)));
    const model = Screener.create(runtime, config, 0);
    const trainer = new ScreenerTrainer(runtime, model, scans, 0);
    const cases: BenchCase[] = [];
    try {
      for (const stage of trainer.stages) {
        // The first step compiles every pipeline of the stage; it is not timed.
        const total = 1 + timed;
        trainer.startOver();
        const times: number[] = [];
        await trainer.trainStage(stage, total, { onStep: (r) => r.step > 1 && times.push(r.seconds * 1000) });
        const ms = median(times);
        if (options.profile) {
          trainer.startOver();
          await printProfile(runtime, () => trainer.trainStage(stage, 1), `${preset} ${stage}`);
        }
        const crops = 2 * config.train.batch;
        const pairs = stage === 'density' ? 0 : config.train.batch * config.ssl.positions;
        const pooled = config.train.cropSize.reduce((p, s, a) => p * (s / config.density.poolStride[a]!), 1);
        const cropsPerSecond = (crops * 1000) / ms;
        const voxelPairsPerSecond = (pairs * 1000) / ms;
        console.error(
          `bench: train: ${preset} ${stage}: ${(ms / 1000).toFixed(2)} s per step, ${cropsPerSecond.toFixed(3)} crops/s` +
            (stage === 'density' ? `, ${Math.round((crops * pooled * 1000) / ms)} pooled voxels/s` : `, ${voxelPairsPerSecond.toFixed(1)} voxel pairs/s`),
        );
        cases.push({
          name: `${stage} step`,
          shape: `${preset}: ${crops} crops of ${config.train.cropSize.join('x')}${pairs ? `, ${pairs} pairs` : `, ${config.density.kind} on ${config.density.condition}`}`,
          medianMs: ms,
          flops: stepFlops(config, stage),
          extra: { preset, stage, cropsPerSecond, voxelPairsPerSecond, steps: times.length },
        });
      }
      if (!options['no-peer']) {
        const peer = torchTrainStep(config, timed, options['peer-cuda'] ? 'cuda' : 'cpu');
        if ('unavailable' in peer) console.error(`bench: train: no PyTorch peer: ${peer.unavailable}`);
        else {
          console.error(`bench: train: PyTorch ${peer.torch} on ${peer.device} (${peer.threads} threads): ${trainer.stages.map((s) => `${s} ${(1000 / peer.ms[s]).toFixed(2)} steps/s`).join(', ')}`);
          for (const c of cases) {
            const stage = c.extra!.stage as Stage;
            c.peerMedianMs = peer.ms[stage];
            c.extra = { ...c.extra, peer: `PyTorch ${peer.torch} ${peer.device}, ${peer.threads} threads` };
          }
        }
      }
      return cases;
    } finally {
      trainer.dispose();
      model.dispose();
    }
  },
};
