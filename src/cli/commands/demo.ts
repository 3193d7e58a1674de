// `screener demo`: Screener end to end with no data and no downloads. Generates CT phantoms whose
// lesions include the kind held out of training, scores them with the weights shipped in
// models/demo.safetensors (or a short training run with --train) and with the intensity baseline,
// prints the paper's metrics per lesion-kind group, and writes maps and overlays to a folder.
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { intOption, stringOption, UsageError } from '../args';
import { defineCommand } from '../command';
import { writeFileAtomic } from '../../data/io/files.node';
import { phantomCaseSeed, phantomCaseName } from '../../data/phantom/cases';
import { HELD_OUT_LESION_KINDS, TRAINING_LESION_KINDS, type LesionKind } from '../../data/phantom/lesions';
import { generatePhantom } from '../../data/phantom/phantom';
import { diameterOnLadder, QUALITY_DIAMETER_MM } from '../../data/phantom/quality-set';
import { writePhantomCase } from '../../data/phantom/write.node';
import { nodeRuntime } from '../../gpu/node';
import { fitIntensityAtlas } from '../../eval/intensity-fit.node';
import { baselinePreprocess } from '../../eval/intensity-baseline';
import { jsonReport, markdownTable } from '../../eval/report';
import { runEvaluation } from '../../eval/run.node';
import { intensityScorer, windowModelScorer } from '../../eval/scorers';
import { withCombination } from '../../eval/combined-scorer';
import { describeScreener, loadScreener } from '../../model/predict-load.node';
import { demoTrainingConfig } from '../../train/demo-config';
import { ProgressBar } from '../../eval/progress';
import { configPreprocessing } from '../../model/config';
import { runTraining, summaryLine } from '../../train/run.node';
import { loadTrainingScans } from '../../train/scans.node';

export const DEMO_MODEL = 'models/demo.safetensors';
// The demo's own short training (--train) shares its configuration with the page's.
export { DEMO_TRAIN_SPACING_MM, demoTrainingConfig } from '../../train/demo-config';

const spec = {
  out: { type: 'string', value: 'DIR', description: 'where phantoms, anomaly maps, overlays and report.json go', default: './demo-out' },
  model: { type: 'string', value: 'M', description: 'weights to use', default: `${DEMO_MODEL}, shipped with the repository` },
  train: { type: 'boolean', description: 'train a tiny model on generated phantoms first (a short run, minutes; 6 mm voxels)' },
  steps: { type: 'string', value: 'N', description: 'training steps per stage with --train', default: 60 },
  n: { type: 'string', value: 'N', description: 'test phantoms; each holds the held-out lesion kind and trained kinds', default: 3 },
  healthy: { type: 'string', value: 'N', description: 'healthy phantoms the intensity baseline is fitted on', default: 8 },
  size: { type: 'string', value: 'V', description: 'phantom voxels per side', default: 80 },
  seed: { type: 'string', value: 'S', description: 'phantom seed', default: 2024 },
} as const;

export const demo = defineCommand({
  name: 'demo',
  summary: 'generate phantoms (with a lesion kind never trained on), find their lesions, print the metrics',
  synopsis: ['screener demo [--out DIR] [--model M | --train [--steps N]] [--n N] [--healthy N] [--size V] [--seed S]'],
  options: spec,
  notes: [
    'Needs no data and no network. Screener and the intensity-outlier baseline are evaluated over the voxels ' +
      'inside the body, per group of lesion kinds: the kinds a model trains beside, and the kind held out.',
  ],
  async execute(args) {
    const out = resolve(stringOption(args, 'out') ?? spec.out.default);
    const n = intOption(args, 'n', spec.n.default);
    const healthyCount = intOption(args, 'healthy', spec.healthy.default);
    const size = intOption(args, 'size', spec.size.default);
    const seed = intOption(args, 'seed', spec.seed.default);
    const train = args.options.train === true;
    const steps = intOption(args, 'steps', spec.steps.default);
    if (n < 2) throw new UsageError('--n must be at least 2 (the Dice threshold of each half is chosen on the other)');
    if (healthyCount < 1) throw new UsageError('--healthy must be at least 1');
    if (size < 32 || size > 256) throw new UsageError('--size must be between 32 and 256');
    if (steps < 1) throw new UsageError('--steps must be at least 1');
    const explicitModel = stringOption(args, 'model');
    if (train && explicitModel) throw new UsageError('--train makes its own model; leave out --model');

    const started = performance.now();
    const modelPath = train ? join(out, 'demo-trained.safetensors') : (explicitModel ?? findShippedModel());
    if (!train && !existsSync(modelPath)) {
      throw new Error(
        `${modelPath} is missing: the demo needs trained weights.\n` +
          `  Train them (the quality benchmark's training phantoms, about half an hour on a software adapter):\n` +
          `    screener phantom --quality --out quality-phantoms\n` +
          `    screener train --data quality-phantoms/train --out ${DEMO_MODEL} --preset small --spacing 4 --steps 300 --colour 0.3 --density knn --smooth 6 --reference scan --seed 0\n` +
          `  or run a short training inside the demo: screener demo --train`,
      );
    }

    mkdirSync(out, { recursive: true });
    const dataDir = join(out, 'phantoms');
    const healthyDir = join(out, 'healthy');
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(healthyDir, { recursive: true, force: true });
    const heldOut = HELD_OUT_LESION_KINDS;
    log(`Generating ${n} test phantoms (held-out kind ${heldOut.join(', ')} in each, beside trained kinds; lesions of ${QUALITY_DIAMETER_MM.join('-')} mm) and ${healthyCount} healthy ones in ${out}`);
    for (let i = 0; i < n; i++) {
      const kinds: LesionKind[] = [...heldOut, TRAINING_LESION_KINDS[(seed + i) % TRAINING_LESION_KINDS.length]!];
      const lesions = kinds.map((kind, j) => ({ kind, diameterMm: diameterOnLadder(i * kinds.length + j) }));
      const phantom = generatePhantom({ seed: phantomCaseSeed(seed, i), lesions, size });
      writePhantomCase(join(dataDir, phantomCaseName(i)), phantom, { seed: phantomCaseSeed(seed, i) });
    }
    for (let i = 0; i < healthyCount; i++) {
      const caseSeed = phantomCaseSeed(seed + 1, i);
      writePhantomCase(join(healthyDir, phantomCaseName(i)), generatePhantom({ seed: caseSeed, healthy: true, size }), { seed: caseSeed });
    }

    if (train) await trainDemoModel(out, modelPath, { size, seed, steps });

    const runtime = await nodeRuntime();
    const model = loadScreener(runtime, modelPath);
    try {
      log(`Model ${modelPath}: ${describeScreener(model)}`);
      // The baseline sees the intensities the model sees (its HU window), at its own voxel size.
      const preprocess = baselinePreprocess(model.preprocess);
      const atlas = fitIntensityAtlas([healthyDir], preprocess, { progress: process.stderr });
      const result = await runEvaluation({
        data: dataDir,
        // Screener, the baseline, and the two as one method (the mean of their maps, each standardised
        // in the body): the benchmark's best method (bench/RESULTS.md), at no second scoring.
        scorers: withCombination(
          windowModelScorer(runtime, model, { name: 'screener', description: `Screener (${describeScreener(model)})` }),
          intensityScorer(atlas, { fitSource: `${healthyCount} healthy phantoms`, preprocess }),
        ),
        mapsDir: join(out, 'maps'),
        montageDir: join(out, 'montages'),
        montageCount: 1,
        progress: process.stderr,
      });
      const report = join(out, 'report.json');
      writeFileAtomic(report, new TextEncoder().encode(JSON.stringify(jsonReport(dataDir, result.thresholdSelection, result.methods, result.failed), null, 2) + '\n'));
      console.log('');
      console.log(markdownTable(result.methods));
      console.log('');
      console.log(`Held-out kind (never in training): ${heldOut.join(', ')}; trained kinds: ${TRAINING_LESION_KINDS.join(', ')}.`);
      console.log(`Voxels inside the body only. ${result.thresholdSelection}.`);
      console.log('');
      console.log(`Anomaly maps (NIfTI, on each phantom's grid) and overlays (PNG): ${join(out, 'maps')}/CASE/{screener,intensity,screener+intensity}.{nii.gz,png}`);
      console.log(`Best and worst cases: ${join(out, 'montages')}/`);
      console.log(`Phantoms: ${dataDir}/   metrics per case: ${report}`);
      console.log(`Done in ${((performance.now() - started) / 1000).toFixed(0)} s.`);
      return 0;
    } finally {
      model.dispose();
      runtime.dispose();
    }
  },
});

function log(line: string): void {
  console.error(line);
}

/** models/demo.safetensors in the working folder, else beside the installed package. */
function findShippedModel(): string {
  if (existsSync(DEMO_MODEL)) return DEMO_MODEL;
  try {
    const packaged = fileURLToPath(new URL(`../${DEMO_MODEL}`, import.meta.url));
    if (existsSync(packaged)) return packaged;
  } catch {
    // Not running from a file URL (bundled elsewhere): the working folder is all there is.
  }
  return DEMO_MODEL;
}

/** A short training run on phantoms of the trained kinds only (the held-out kind never appears). */
async function trainDemoModel(out: string, modelPath: string, o: { size: number; seed: number; steps: number }): Promise<void> {
  const trainDir = join(out, 'train-phantoms');
  rmSync(trainDir, { recursive: true, force: true });
  const count = 8;
  for (let i = 0; i < count; i++) {
    const caseSeed = phantomCaseSeed(o.seed + 2, i);
    const lesions = [TRAINING_LESION_KINDS[i % TRAINING_LESION_KINDS.length]!];
    writePhantomCase(join(trainDir, phantomCaseName(i)), generatePhantom({ seed: caseSeed, lesions, size: o.size }), { seed: caseSeed });
  }
  const config = demoTrainingConfig(o.steps);
  log(`Training on ${count} phantoms of the trained kinds: tiny networks at ${config.targetSpacing.join('x')} mm, ${o.steps} steps per stage`);
  const { scans } = loadTrainingScans([trainDir], { cacheDir: join(out, 'cache'), preprocess: configPreprocessing(config) });
  const runtime = await nodeRuntime();
  try {
    const bar = new ProgressBar(process.stderr, 'train', 'steps');
    const total = 3 * o.steps;
    let done = 0;
    const result = await runTraining({
      runtime,
      scans,
      out: modelPath,
      config,
      seed: o.seed,
      onStep: (record) => bar.update(++done, total, `${record.stage} loss ${record.loss.toFixed(3)}`),
    });
    log(summaryLine(result));
  } finally {
    runtime.dispose();
  }
}
