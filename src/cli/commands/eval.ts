// `screener eval`: the paper's metrics for Screener, the intensity baseline and the ablation grid,
// side by side over the cases of a data folder that have lesion masks.
import { ANOMALY_OPTIONS, anomalyOptions, numberOption, OVERLAP_OPTION, overlapOption, intOption, stringOption, UsageError, type ParsedArgs } from '../args';
import { defineCommand } from '../command';
import { checkEvalPaths } from './eval-paths';
import { defaultCacheDir } from '../../train/scans.node';
import { createHash } from 'node:crypto';
import { readFileBytes, writeFileAtomic } from '../../data/io/files.node';
import { nodeRuntime } from '../../gpu/node';
import type { Runtime } from '../../gpu/runtime';
import { loadAblationModels } from '../../eval/ablation.node';
import { fitIntensityAtlas } from '../../eval/intensity-fit.node';
import { jsonReport, markdownTable, responseTable, RESPONSE_NOTE, spreadTable } from '../../eval/report';
import { PHANTOM_PER_KIND_GROUPS, runEvaluation } from '../../eval/run.node';
import { combinedScorer } from '../../eval/combined-scorer';
import { intensityScorer, windowModelScorer, type AnomalyScorer, type EvalMethod } from '../../eval/scorers';
import { BASELINE_SPACING_MM, baselinePreprocess } from '../../eval/intensity-baseline';
import type { AnomalyOptions } from '../../model/config';
import { describeScreener, loadScreener } from '../../model/predict-load.node';
import type { Screener } from '../../model/screener';
import { counted } from '../../data/counted';

const spec = {
  data: {
    type: 'string',
    value: 'DIR',
    description: 'cases to score: every case folder with ct.nii.gz and lesion.nii.gz (lesion_kinds.nii.gz, as phantoms have, adds rows per kind group)',
  },
  model: { type: 'string', value: 'M', description: 'a Screener model (.safetensors)' },
  baseline: { type: 'string', value: 'intensity', description: 'the intensity-outlier baseline (no learning), fitted on --fit-data' },
  'fit-data': { type: 'list', value: 'DIR', description: 'scans the baseline learns healthy intensities from (repeatable; labels unused)' },
  combined: {
    type: 'boolean',
    description: 'also Screener and the baseline as one method: the mean of their maps, each standardised inside the body (median, MAD)',
  },
  ablation: { type: 'boolean', description: 'the condition x density grid: every model in --models DIR' },
  models: { type: 'string', value: 'DIR', description: 'the folder of the ablation grid\'s models' },
  'source-data': {
    type: 'string',
    value: 'DIR',
    description:
      'the folder the lesions were inserted into (insert-lesions --data), or phantom --quality\'s DIR/test-source: each case\'s scan there is scored too, and each method\'s lesion presence and placement AUROC are reported (also per kind group, for cases with lesion_kinds.nii.gz)',
  },
  'per-kind': {
    type: 'boolean',
    description: 'for cases with lesion_kinds.nii.gz: also every lesion kind as a group of its own, after the trained and held-out groups',
  },
  'threshold-data': { type: 'string', value: 'DIR2', description: 'cases used only to choose the Dice threshold', default: 'the other half of --data' },
  json: { type: 'string', value: 'FILE', description: 'per-case and mean values under auroc, auroc30, aupro30, diceBest, diceFixed, lesionRecall (with --source-data also presence and placement)' },
  montages: { type: 'string', value: 'DIR', description: 'also overlays of each method\'s best and worst cases' },
  maps: { type: 'string', value: 'DIR', description: 'also every case\'s anomaly maps (NIfTI) and overlays' },
  cache: { type: 'string', value: 'DIR', description: 'cache of preprocessed scans', default: `${defaultCacheDir()}, as train's` },
  limit: { type: 'string', value: 'N', description: 'only the first N cases (sorted by id)' },
  ...OVERLAP_OPTION,
  ...ANOMALY_OPTIONS,
  spacing: {
    type: 'string',
    value: 'MM',
    description:
      'the voxel size the baseline preprocesses to (with a model, the rest of its preprocessing, such as the HU window, is the model\'s; ' +
      'the combination takes both maps on the scan\'s own grid)',
    default: `${BASELINE_SPACING_MM} mm`,
  },
  'force-geometry': {
    type: 'boolean',
    description:
      'score scans whose voxel size (0.1-20 mm) or extent (2 cm-2.5 m per side) is not a CT\'s, or that hold no air (no voxel at or below -500 HU) ' +
      '(without it they are listed as failed cases)',
  },
  resume: {
    type: 'boolean',
    description: 'with --maps: take each case\'s maps from an earlier run of the same command where they were written, and score only the cases without them',
  },
} as const;

export const evaluate = defineCommand({
  name: 'eval',
  summary: 'voxel AUROC, AUROC30, AUPRO30, Dice and lesion recall of Screener, baselines and the ablation grid',
  synopsis: [
    'screener eval --data DIR [--model M] [--baseline intensity --fit-data DIR...] [--combined] [--ablation --models DIR] ' +
      '[--source-data DIR] [--per-kind] [--threshold-data DIR2] [--json report.json] [--montages DIR] [--maps DIR] [--cache DIR] [--limit N] ' +
      '[--overlap F] [--score nll|latent] [--reference bank|scan|both] [--reference-rows N] [--spacing MM] [--force-geometry] [--resume]',
  ],
  options: spec,
  notes: [
    'Every metric counts only voxels inside the body mask of preprocessing, on the original grid.',
    'Methods are printed side by side in one markdown table; the methods given are all scored.',
    'With --source-data, every case is scored a second time on its scan without lesions (same case id, same grid), ' +
      'so evaluation takes twice as long. Lesion presence is the AUROC of the lesions\' voxels with the lesions against the ' +
      'same voxels without them (0.5: the method does not see them); placement is the AUROC that the map without lesions ' +
      'gets from where the lesions were put (what a method blind to them scores).',
    'Each run replaces --json and the files it writes under --montages and --maps; no output may be an input.',
    'A case that cannot be read or scored is listed with its error (and in --json) and counts in no mean; ' +
      'the others are scored all the same, and the exit code is then 1.',
  ],
  async execute(args) {
    const data = stringOption(args, 'data');
    if (!data) throw new UsageError('--data is required');
    const baseline = stringOption(args, 'baseline');
    if (baseline !== undefined && baseline !== 'intensity') throw new UsageError(`--baseline must be "intensity", got "${baseline}"`);
    const fitData = (args.options['fit-data'] as string[] | undefined) ?? [];
    if (baseline && fitData.length === 0) throw new UsageError('--baseline intensity needs --fit-data DIR (healthy or training scans)');
    if (!baseline && fitData.length) throw new UsageError('--fit-data is only used with --baseline intensity');
    const ablation = args.options.ablation === true;
    const modelsDir = stringOption(args, 'models');
    if (ablation !== (modelsDir !== undefined)) throw new UsageError('--ablation and --models DIR go together');
    const modelPath = stringOption(args, 'model');
    if (!modelPath && !baseline && !ablation) throw new UsageError('name at least one method: --model M, --baseline intensity or --ablation --models DIR');
    const combined = args.options.combined === true;
    if (combined && !(modelPath && baseline)) throw new UsageError('--combined needs a model and the baseline: --model M --baseline intensity --fit-data DIR');
    const limit = args.options.limit === undefined ? undefined : intOption(args, 'limit', 0);
    if (limit !== undefined && limit < 1) throw new UsageError('--limit must be at least 1');
    const overlap = overlapOption(args);
    const baselineSpacing = baselineSpacingMm(args);
    const anomaly = anomalyOptions(args);
    if (Object.keys(anomaly).length > 0 && !modelPath) throw new UsageError('--score, --smooth, --reference and --reference-rows say how --model M makes its map: give a model');
    const resume = args.options.resume === true;
    const forceGeometry = args.options['force-geometry'] === true;
    if (resume && stringOption(args, 'maps') === undefined) throw new UsageError('--resume takes the maps of an earlier run: give its --maps DIR');
    checkEvalPaths(args);

    return withModels(args, anomaly, async (runtime, models) => {
      const scorers: AnomalyScorer[] = [];
      const primary = models[0];
      for (const { name, model, path } of models) {
        const weights = `sha256 ${createHash('sha256').update(readFileBytes(path)).digest('hex')}`;
        scorers.push(windowModelScorer(runtime!, model, { name, description: `Screener (${describeScreener(model)})`, overlap, weights }));
      }
      if (baseline) {
        // The baseline sees the intensities the (first) model sees (its HU window), at its own voxel size.
        const preprocess = baselinePreprocess(primary?.model.preprocess, baselineSpacing);
        const atlas = fitIntensityAtlas(fitData, preprocess, { cacheDir: cacheDir(args), progress: process.stderr, forceGeometry });
        scorers.push(intensityScorer(atlas, { fitSource: fitData.join(', '), preprocess }));
      }
      // The first model and the baseline as one more row, made from their maps of each case (no second scoring).
      const methods: EvalMethod[] = combined ? [...scorers, combinedScorer([scorers[0]!, scorers[scorers.length - 1]!])] : scorers;
      const montageDir = stringOption(args, 'montages');
      const result = await runEvaluation({
        data,
        scorers: methods,
        thresholdData: stringOption(args, 'threshold-data'),
        montageDir,
        mapsDir: stringOption(args, 'maps'),
        cacheDir: cacheDir(args),
        limit,
        resume,
        forceGeometry,
        sourceData: stringOption(args, 'source-data'),
        ...(args.options['per-kind'] === true ? { groups: PHANTOM_PER_KIND_GROUPS } : {}),
        progress: process.stderr,
      });
      console.log(`# screener eval: ${data} (${counted(result.cases, 'case')} with lesions${result.reused ? `, ${result.reused} of them from the maps of an earlier run` : ''})\n`);
      for (const s of methods) console.log(`- **${s.name}**: ${s.description}`);
      console.log(`\n${markdownTable(result.methods)}\n\nPer-case spread:\n\n${spreadTable(result.methods)}\n`);
      const responses = responseTable(result.methods);
      if (responses) console.log(`Without the lesions (--source-data):\n\n${responses}\n\n${RESPONSE_NOTE}\n`);
      console.log(`${result.thresholdSelection}.`);
      console.log('Every metric counts only voxels inside the body mask of preprocessing, on the original grid.');
      if (models.missing.length) console.log(`Ablation cells without a model in ${modelsDir}: ${models.missing.join(', ')}.`);
      if (montageDir) console.log(`\nOverlays of the best and worst cases: ${montageDir}/`);
      const json = stringOption(args, 'json');
      if (json) {
        writeFileAtomic(json, new TextEncoder().encode(JSON.stringify(jsonReport(data, result.thresholdSelection, result.methods, result.failed), null, 2) + '\n'));
        console.log(`Report: ${json}`);
      }
      if (result.failed.length === 0) return 0;
      // The cases that could be scored are reported above; the exit code says that some could not.
      console.log(`\n${counted(result.failed.length, 'case')} could not be scored and count in no mean:`);
      for (const f of result.failed) console.log(`- ${f.id}: ${f.error}`);
      return 1;
    });
  },
});

/** --spacing, the baseline's voxel size, when given. */
function baselineSpacingMm(args: ParsedArgs): number | undefined {
  const mm = numberOption(args, 'spacing');
  if (mm === undefined) return undefined;
  if (!(mm >= 0.1 && mm <= 20)) throw new UsageError(`--spacing must be a voxel size in mm (0.1 to 20), got "${stringOption(args, 'spacing')}"`);
  return mm;
}

function cacheDir(args: ParsedArgs): string {
  return stringOption(args, 'cache') ?? defaultCacheDir();
}

type LoadedModels = { name: string; model: Screener; path: string }[] & { missing: string[] };

/** Opens the GPU and loads the models (--model M with the anomaly options given) only when a model is to be scored; frees both afterwards. */
async function withModels(args: ParsedArgs, anomaly: AnomalyOptions, body: (runtime: Runtime | null, models: LoadedModels) => Promise<number>): Promise<number> {
  const modelPath = stringOption(args, 'model');
  const modelsDir = stringOption(args, 'models');
  if (!modelPath && !modelsDir) return body(null, Object.assign([], { missing: [] }));
  const runtime = await nodeRuntime();
  const models: LoadedModels = Object.assign([], { missing: [] as string[] });
  try {
    if (modelPath) models.push({ name: 'screener', model: loadScreener(runtime, modelPath, anomaly), path: modelPath });
    if (modelsDir) {
      const grid = loadAblationModels(runtime, modelsDir);
      models.push(...grid.models.map((m) => ({ name: m.name, model: m.model, path: m.path })));
      models.missing = grid.missing;
    }
    return await body(runtime, models);
  } finally {
    for (const m of models) m.model.dispose();
    runtime.dispose();
  }
}
