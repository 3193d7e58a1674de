// `npm run bench -- quality`: does a recipe find lesions better than the intensity baseline, beyond
// the noise of seeds and cases? Writes the fixed phantom set, trains the recipe once per seed (or
// takes a given model), scores every seed and the baseline on the same test cases, and reports per
// lesion group the mean over seeds with a bootstrap interval over cases, the spread between seeds,
// and the paired difference to the baseline.
//
// Everything lands under --out and is reused by the next run: phantoms, preprocessed scans, each
// seed's model (an interrupted training resumes from its checkpoint) and each seed's scores. A recipe
// longer than one sitting is therefore run again with the same options until it is done.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { basename, join, resolve } from 'node:path';
import { ANOMALY_OPTIONS, anomalyOptions, intOption, OVERLAP_OPTION, overlapOption, parseArgs, stringOption, UsageError } from '../../src/cli/args';
import { formatUsage } from '../../src/cli/usage';
import { readFileBytes, writeFileAtomic } from '../../src/data/io/files.node';
import { writeQualitySplits } from '../../src/data/phantom/write.node';
import { QUALITY_SET_DEFAULTS } from '../../src/data/phantom/quality-set';
import { nodeRuntime } from '../../src/gpu/node';
import type { Runtime } from '../../src/gpu/runtime';
import type { MethodResult } from '../../src/eval/evaluate';
import { fitIntensityAtlas } from '../../src/eval/intensity-fit.node';
import { baselinePreprocess } from '../../src/eval/intensity-baseline';
import { runEvaluation } from '../../src/eval/run.node';
import { withCombination } from '../../src/eval/combined-scorer';
import type { IntensityAtlas } from '../../src/eval/intensity-baseline';
import { intensityScorer, windowModelScorer, type EvalMethod } from '../../src/eval/scorers';
import { describeScreener, loadScreener } from '../../src/model/predict-load.node';
import { screenerConfigOf } from '../../src/model/screener';
import { readCheckpointSummary } from '../../src/train/checkpoint';
import { runTraining, trainPaths } from '../../src/train/run.node';
import { loadTrainingScans } from '../../src/train/scans.node';
import { configPreprocessing, type ScreenerConfig } from '../../src/model/config';
import { stepSecondsOfCsv } from '../../src/train/curves';
import { parseRecipe, RECIPE_OPTIONS, recipeConfig, recipeName } from './recipe';
import { qualityJson, qualityTable, type QualityRun } from './report';

export const QUALITY_OPTIONS = {
  seeds: { type: 'string', value: 'K', description: 'train and score K models of the recipe, seeds 0..K-1', default: 3 },
  'first-seed': { type: 'string', value: 'S', description: 'start the seeds at S', default: 0 },
  ...RECIPE_OPTIONS,
  model: { type: 'string', value: 'M', description: 'score this model instead of training the recipe (one run, no seeds)' },
  combined: {
    type: 'boolean',
    description: 'also score Screener and the baseline as one method (screener eval --combined) for every run',
  },
  presence: {
    type: 'boolean',
    description: 'also score each test phantom without its lesions: lesion presence and placement per lesion group (about doubles the scoring time)',
  },
  cases: { type: 'string', value: 'N', description: 'test phantoms, three lesions each', default: QUALITY_SET_DEFAULTS.cases },
  healthy: { type: 'string', value: 'N', description: 'healthy phantoms the intensity baseline is fitted on', default: QUALITY_SET_DEFAULTS.healthy },
  'train-cases': { type: 'string', value: 'N', description: 'training phantoms, trained lesion kinds only', default: QUALITY_SET_DEFAULTS.train },
  size: { type: 'string', value: 'V', description: 'phantom voxels per side', default: `${QUALITY_SET_DEFAULTS.size}: about 3 mm` },
  ...OVERLAP_OPTION,
  ...ANOMALY_OPTIONS,
  out: { type: 'string', value: 'DIR', description: 'phantoms, models, scores and reports; reused by the next run', default: 'out/quality' },
  json: { type: 'string', value: 'FILE', description: 'the report as JSON (per seed, per case, intervals)' },
} as const;

export const QUALITY_USAGE = formatUsage({
  synopsis: ['npm run bench -- quality [--seeds K] [recipe options] [--model M] [--combined] [--presence] [--score nll|latent] [--smooth MM] [--reference bank|scan|both] [--reference-rows N] [--out DIR] [--json FILE]'],
  options: QUALITY_OPTIONS,
});

const log = (line: string) => console.error(`quality: ${line}`);

export async function runQualityBenchmark(argv: string[]): Promise<number> {
  const args = parseArgs(argv, QUALITY_OPTIONS);
  if (args.help) {
    console.log(QUALITY_USAGE);
    return 0;
  }
  const out = resolve(stringOption(args, 'out') ?? QUALITY_OPTIONS.out.default);
  const counts = {
    cases: intOption(args, 'cases', QUALITY_OPTIONS.cases.default),
    healthy: intOption(args, 'healthy', QUALITY_OPTIONS.healthy.default),
    train: intOption(args, 'train-cases', QUALITY_OPTIONS['train-cases'].default),
    size: intOption(args, 'size', QUALITY_SET_DEFAULTS.size),
  };
  if (counts.cases < 2) throw new UsageError('--cases must be at least 2 (the Dice threshold of each half is chosen on the other)');
  if (counts.healthy < 1 || counts.train < 1) throw new UsageError('--healthy and --train-cases must be at least 1');
  if (counts.size < 32 || counts.size > 256) throw new UsageError('--size must be between 32 and 256');
  const seeds = intOption(args, 'seeds', QUALITY_OPTIONS.seeds.default);
  const firstSeed = intOption(args, 'first-seed', QUALITY_OPTIONS['first-seed'].default);
  if (seeds < 1 || firstSeed < 0) throw new UsageError('--seeds must be at least 1 and --first-seed non-negative');
  const overlap = overlapOption(args);
  // Another score, smoothing or knn reference rescores the same models: kept beside the default scores under its own name.
  const anomaly = anomalyOptions(args);
  const scoreTag = [
    anomaly.score === undefined ? '' : `-score-${anomaly.score}`,
    anomaly.smoothMm === undefined ? '' : `-smooth-${anomaly.smoothMm}`,
    anomaly.reference === undefined ? '' : `-reference-${anomaly.reference}`,
    anomaly.referenceRows === undefined ? '' : `-reference-rows-${anomaly.referenceRows}`,
  ].join('');
  const givenModel = stringOption(args, 'model');
  const recipe = parseRecipe(args);
  // A given model is read (and its config checked) before any work; it is known by its bytes, so
  // scores kept for one file are never shown for another.
  const givenBytes = givenModel === undefined ? null : readFileBytes(givenModel);
  const config = givenBytes ? screenerConfigOf(givenBytes, givenModel!) : recipeConfig(recipe);
  const name = givenBytes ? `model-${basename(givenModel!).replace(/[^A-Za-z0-9._-]+/g, '_')}-${contentTag(givenBytes)}` : recipeName(recipe);
  // Everything kept is keyed by the phantoms it came from: a model by its training set, scores by the test set.
  const trainSet = `size${counts.size}-train${counts.train}`;
  const testSet = `size${counts.size}-${counts.cases}cases`;

  // The phantoms: fixed by the design, written once and reused.
  const data = join(out, `phantoms-${counts.size}`);
  const dirs = { test: join(data, 'test'), testSource: join(data, 'test-source'), healthy: join(data, 'healthy'), train: join(data, 'train') };
  const presence = args.options.presence === true;
  const started = performance.now();
  const written = writeQualitySplits(
    [
      { split: 'test', dir: dirs.test, count: counts.cases },
      ...(presence ? [{ split: 'test-source', dir: dirs.testSource, count: counts.cases } as const] : []),
      { split: 'healthy', dir: dirs.healthy, count: counts.healthy },
      ...(givenModel ? [] : [{ split: 'train', dir: dirs.train, count: counts.train } as const]),
    ],
    counts.size,
  ).flat();
  log(`phantoms in ${data}: ${counts.cases} test${presence ? ' (and the same without lesions)' : ''}, ${counts.healthy} healthy${givenModel ? '' : `, ${counts.train} training`} (${written.length} written in ${seconds(started)} s)`);

  const cacheDir = join(out, 'cache');
  const combined = args.options.combined === true;
  // The baseline sees the intensities the models see (their HU window) at its own voxel size, on the
  // same cases; its scores depend on nothing else, so every recipe and model with that window shares them.
  const preprocess = baselinePreprocess(configPreprocessing(config));
  let atlas: IntensityAtlas | null = null;
  const fittedAtlas = () => (atlas ??= fitIntensityAtlas([dirs.healthy], preprocess, { cacheDir }));
  const baselineScorer = () => intensityScorer(fittedAtlas(), { fitSource: `${counts.healthy} healthy phantoms`, preprocess });
  const evalData: EvalData = { data: dirs.test, cases: counts.cases, ...(presence ? { sourceData: dirs.testSource } : {}) };
  const runtime = await nodeRuntime();
  try {
    const runs: QualityRun[] = [];
    const combinedRuns: QualityRun[] = [];
    const models = givenModel ? [{ seed: null, path: givenModel }] : Array.from({ length: seeds }, (_, k) => ({ seed: firstSeed + k, path: join(out, 'models', name, trainSet, `s${firstSeed + k}.safetensors`) }));
    for (const m of models) {
      const trainSeconds = m.seed === null ? null : await trainIfNeeded(runtime, m.path, m.seed, config, dirs.train, cacheDir);
      const resultPath = (method: string) =>
        scoresPath(presence, (tag) => join(out, 'results', name, ...(m.seed === null ? [] : [trainSet]), `${m.seed === null ? 'model' : `s${m.seed}`}-${testSet}-overlap${overlap}${scoreTag}${tag}${method}.json`));
      const paths = [resultPath(''), ...(combined ? [resultPath(`-combined-intensity-${preprocess.targetSpacing[0]}mm-${counts.healthy}healthy`)] : [])];
      // Screener alone and, with --combined, Screener with the baseline: the missing ones scored in one
      // pass over the cases, Screener once per case for both.
      const [alone, both] = await scoreOnce(paths, (missing) => {
        const model = loadScreener(runtime, m.path, anomaly);
        const screener = windowModelScorer(runtime, model, { name: 'screener', description: `Screener (${describeScreener(model)})`, overlap });
        // The baseline's own row is scored once per benchmark (below), so only Screener's row and the combination.
        const [screenerRow, , combinedRow] = combined ? withCombination(screener, baselineScorer()) : [screener];
        const scorers = combinedRow ? [screenerRow!, combinedRow] : [screenerRow!];
        return evaluate(scorers.filter((_, k) => missing[k]), evalData, cacheDir).finally(() => model.dispose());
      });
      runs.push({ seed: m.seed, trainSeconds, ...alone! });
      if (both) combinedRuns.push({ seed: m.seed, trainSeconds, ...both });
    }

    const baselinePath = scoresPath(presence, (tag) => join(out, 'results', `intensity-${preprocess.targetSpacing.join('x')}mm-${testSet}-${counts.healthy}healthy${tag}.json`));
    const [baseline] = await scoreOnce([baselinePath], () => evaluate([baselineScorer()], evalData, cacheDir));

    const title = [
      givenModel ? `model ${givenModel}` : `recipe ${name}`,
      anomaly.score ? `, score ${anomaly.score}` : '',
      anomaly.smoothMm !== undefined ? `, map smoothed ${anomaly.smoothMm} mm` : '',
      anomaly.reference ? `, knn reference ${anomaly.reference}` : '',
    ].join('');
    const recipes = [{ label: 'Screener', runs }, ...(combined ? [{ label: 'Screener + intensity', runs: combinedRuns }] : [])];
    const table = qualityTable(recipes, baseline!.method);
    const report = [`# Quality benchmark: ${title}`, '', `${counts.cases} test phantoms (size ${counts.size}), overlap ${overlap}; ${runs.length} run(s).`, '', table, ''].join('\n');
    console.log(report);
    writeFileAtomic(join(out, `report-${name}${scoreTag}.md`), new TextEncoder().encode(report));
    const json = stringOption(args, 'json');
    if (json) writeFileAtomic(json, new TextEncoder().encode(JSON.stringify(qualityJson(title, recipe, counts, recipes, baseline!), null, 2) + '\n'));
    log(`done in ${seconds(started)} s; report ${join(out, `report-${name}${scoreTag}.md`)}${json ? `, ${json}` : ''}`);
    return 0;
  } finally {
    runtime.dispose();
  }
}

/** The first 12 hex digits of the bytes' SHA-256. */
function contentTag(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 12);
}

function seconds(since: number): string {
  return ((performance.now() - since) / 1000).toFixed(0);
}

interface Scored {
  method: MethodResult;
  /** Seconds spent scoring the test cases (preprocessing included). */
  scoreSeconds: number;
}

/** The test cases scored: the first `cases` of `data`, and with --presence each one's scan without lesions in `sourceData`. */
interface EvalData {
  data: string;
  cases: number;
  sourceData?: string;
}

/**
 * Where one result is kept. Scores with presence (tag "-presence") hold every figure of those without,
 * so a run without --presence takes them when it has no scores of its own; one with --presence needs them.
 */
function scoresPath(presence: boolean, path: (tag: string) => string): string {
  const withPresence = path('-presence');
  if (presence) return withPresence;
  const plain = path('');
  return !existsSync(plain) && existsSync(withPresence) ? withPresence : plain;
}

/** Scores the cases with every scorer in one pass; one result per scorer, the pass's seconds shared among them. */
async function evaluate(scorers: EvalMethod[], { data, cases, sourceData }: EvalData, cacheDir: string): Promise<Scored[]> {
  const started = performance.now();
  const result = await runEvaluation({ data, scorers, cacheDir, limit: cases, progress: process.stderr, ...(sourceData ? { sourceData } : {}) });
  const seconds = (performance.now() - started) / 1000;
  return result.methods.map((method) => ({ method, scoreSeconds: seconds }));
}

/**
 * Each result kept at its path; those missing are scored together (score gets which are missing and
 * returns theirs, in order) and kept for later runs.
 */
async function scoreOnce(paths: string[], score: (missing: boolean[]) => Promise<Scored[]>): Promise<Scored[]> {
  const missing = paths.map((path) => !existsSync(path));
  const fresh = missing.some(Boolean) ? await score(missing) : [];
  let next = 0;
  return paths.map((path, k) => {
    if (!missing[k]) return JSON.parse(readFileSync(path, 'utf8')) as Scored;
    const scored = fresh[next++]!;
    mkdirSync(resolve(path, '..'), { recursive: true });
    writeFileAtomic(path, new TextEncoder().encode(JSON.stringify(scored) + '\n'));
    return scored;
  });
}

/**
 * Trains one seed of the recipe unless its model is finished; resumes from its checkpoint when a run
 * stopped part-way. Returns the seconds of its training steps, over every sitting it took (the loss
 * history, which the checkpoint carries, holds each step's time).
 */
async function trainIfNeeded(runtime: Runtime, path: string, seed: number, config: ScreenerConfig, trainDir: string, cacheDir: string): Promise<number> {
  const paths = trainPaths(path);
  const position = existsSync(paths.checkpoint) ? readCheckpointSummary(readFileBytes(paths.checkpoint), paths.checkpoint).position : null;
  const finished = existsSync(path) && position?.stage === 'density' && position.step >= position.steps;
  if (!finished) {
    mkdirSync(resolve(path, '..'), { recursive: true });
    const { scans } = loadTrainingScans([trainDir], { cacheDir, preprocess: configPreprocessing(config) });
    const resume = position !== null;
    log(`seed ${seed}: ${resume ? `resuming at ${position!.stage} step ${position!.step}` : 'training'} (${path})`);
    let lastLog = 0;
    await runTraining({
      runtime,
      scans,
      out: path,
      config,
      seed,
      resume,
      onStep: (record, at) => {
        const now = performance.now();
        if (now - lastLog > 30_000 || at.step === at.steps) {
          log(`seed ${seed}: ${record.stage} ${at.step}/${at.steps} loss ${record.loss.toFixed(3)}`);
          lastLog = now;
        }
      },
    });
  }
  return stepSecondsOfCsv(readFileSync(paths.csv, 'utf8'));
}
