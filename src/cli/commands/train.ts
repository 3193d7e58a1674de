// `screener train`: trains the descriptor, the condition network and the density model on folders of
// CT scans (no labels needed), writing the model, a checkpoint, loss curves (CSV and PNG) beside it.
import { existsSync } from 'node:fs';
import { anomalyOptions, intOption, numberOption, stringOption, UsageError, type ParsedArgs } from '../args';
import { defineCommand } from '../command';
import { checkRunPaths, requireSuffix } from '../output-paths';
import { RUNTIME_OPTION, runtimeOption, withRuntime } from '../runtime-option';
import { DataError } from '../../data/errors';
import { LESION_KINDS, TRAINING_LESION_KINDS } from '../../data/phantom/lesions';
import {
  configPreprocessing,
  DEFAULT_BANK_SIZE,
  SCAN_REFERENCE_ROWS,
  DEFAULT_PRESET,
  isPresetName,
  presetConfig,
  PRESETS,
  STAGES,
  withDensity,
  withHuWindow,
  withTargetSpacing,
  type AnomalyOptions,
  type ConditionKind,
  type DensityKind,
  type Stage,
} from '../../model/config';
import { formatDuration, progressLine, RateMeter, summaryLine } from '../../train/progress';
import { defaultCacheDir, loadTrainingScans } from '../../train/scans.node';
import { runTraining, trainPaths } from '../../train/run.node';
import { bankSizeOption, checkBankSizeFits, densityChoice } from '../density-options';
import { readFileBytes } from '../../data/io/files.node';
import { screenerConfigOf } from '../../model/screener';
import { HU_WINDOW_LIMITS } from '../../model/validate-config';
import type { LossRecord, TrainingPosition } from '../../train/trainer';
import { counted } from '../../data/counted';
import { SCAN_REFERENCE_APART_MM } from '../../model/scan-reference';

const spec = {
  data: { type: 'list', value: 'DIR', description: 'a data folder (one folder per case with ct.nii.gz); repeat for more' },
  out: { type: 'string', value: 'FILE', description: 'the model; beside it FILE.checkpoint.safetensors, FILE.losses.csv, FILE.losses.png' },
  preset: { type: 'string', value: 'NAME', description: PRESETS.join(', '), default: `${DEFAULT_PRESET}; with --from, that model's configuration` },
  stage: {
    type: 'string',
    value: 'NAME',
    description: `train only this stage: ${STAGES.join(', ')}; a later stage starts from the model already at --out, or from --from`,
    default: 'all, in order',
  },
  steps: { type: 'string', value: 'N', description: 'steps per stage', default: "the preset's" },
  resume: { type: 'boolean', description: 'continue from FILE.checkpoint.safetensors exactly where it stopped' },
  seed: { type: 'string', value: 'S', description: 'seed of the weights and of every sampled crop', default: 0 },
  condition: { type: 'string', value: 'KIND', description: 'masked, sincos or none: what the density is conditioned on', default: 'masked; none for a knn density' },
  density: {
    type: 'string',
    value: 'KIND',
    description:
      'flow, gaussian or knn (a bank of training descriptors; a voxel scores its distance to the nearest, unconditioned, so no condition network is trained)',
    default: "the preset's: flow for small and base, gaussian for tiny",
  },
  score: {
    type: 'string',
    value: 'nll|latent',
    description: 'the anomaly score the model gives when it predicts (kept in the model; training does not depend on it)',
    default: 'nll',
  },
  smooth: {
    type: 'string',
    value: 'MM',
    description: 'standard deviation in mm of a Gaussian that smooths the anomaly map when the model predicts (kept in the model)',
    default: 'none',
  },
  reference: {
    type: 'string',
    value: 'bank|scan|both',
    description: `what a knn density compares each voxel's descriptor with when the model predicts: its bank, the scan's own descriptors more than ${SCAN_REFERENCE_APART_MM} mm away, or the nearer (kept in the model)`,
    default: 'bank',
  },
  'reference-rows': {
    type: 'string',
    value: 'N',
    description: "the most cells of the scan a knn density takes as its reference when it is compared with its scan (a draw when the scan has more); the search at prediction takes time in proportion (kept in the model)",
    default: SCAN_REFERENCE_ROWS,
  },
  'bank-size': {
    type: 'string',
    value: 'N',
    description: 'descriptors a knn density keeps in its bank; the search at prediction takes time in proportion',
    default: DEFAULT_BANK_SIZE,
  },
  kinds: {
    type: 'string',
    value: 'LIST',
    description: `keep only cases whose lesions (case.json) are of these kinds: "training" (${TRAINING_LESION_KINDS.join(', ')}), "all" or a comma-separated list`,
  },
  from: { type: 'string', value: 'MODEL', description: 'start from this model\'s trained networks (e.g. to train another density)' },
  spacing: { type: 'string', value: 'MM', description: 'voxel size in mm the scans are resampled to', default: "the preset's" },
  colour: {
    type: 'string',
    value: 'S',
    description:
      'scale of the self-supervised colour augmentations; 0 turns them off; weaker jitter keeps more of a tissue\'s absolute intensity',
    default: "1, the paper's",
  },
  'hu-window': {
    type: 'string',
    value: 'LO,HI',
    description: 'the HU window scans are clipped to and rescaled from (e.g. -200,300 for soft tissue); kept in the model, so prediction uses it too',
    default: "-1000,300, the paper's",
  },
  'force-geometry': {
    type: 'boolean',
    description:
      'train on scans whose voxel size (0.1-20 mm) or extent (2 cm-2.5 m per side) is not a CT\'s, or that hold no air (no voxel at or below -500 HU) ' +
      '(without it they are left out, each named)',
  },
  cache: { type: 'string', value: 'DIR', description: 'preprocessed-scan cache', default: defaultCacheDir() },
  force: { type: 'boolean', description: 'start a new run over the files of an earlier one at --out (see below)' },
  ...RUNTIME_OPTION,
} as const;

export const train = defineCommand({
  name: 'train',
  summary: 'train Screener (descriptor, condition, density) on folders of CT scans',
  synopsis: ['screener train --data DIR [--data DIR2 ...] --out MODEL.safetensors [options]'],
  options: spec,
  notes: [
    'Which files are replaced: a new run refuses to start where FILE or its checkpoint, CSV or PNG already exist ' +
      '(continue that run with --resume, or replace it with --force). --resume continues the run and replaces its ' +
      'files; so does --stage condition or density without --from, which trains that stage of the model already at ' +
      'FILE. FILE never replaces --from or a scan.',
  ],
  async execute(args) {
    const out = stringOption(args, 'out');
    if (!out) throw new UsageError('--out is required');
    requireSuffix('--out', out, /\.safetensors$/i, '.safetensors');
    const data = (args.options.data as string[] | undefined) ?? [];
    if (data.length === 0) throw new UsageError('--data is required');
    const presetOption = stringOption(args, 'preset');
    const presetName = presetOption ?? DEFAULT_PRESET;
    if (!isPresetName(presetName)) throw new UsageError(`--preset must be one of ${PRESETS.join(', ')}`);
    const from = stringOption(args, 'from');
    const stage = stringOption(args, 'stage');
    if (stage !== undefined && !(STAGES as readonly string[]).includes(stage)) throw new UsageError(`--stage must be one of ${STAGES.join(', ')}`);
    const steps = args.options.steps === undefined ? undefined : intOption(args, 'steps', 0);
    if (steps !== undefined && steps < 1) throw new UsageError('--steps must be at least 1');
    const seed = intOption(args, 'seed', spec.seed.default);
    if (seed < 0) throw new UsageError('--seed must be a non-negative integer');
    checkTrainPaths(args, out, data, from, stage);
    // A density trained on another model's networks keeps that model's configuration (its spacing, its
    // networks' shapes) unless a preset is asked for.
    const preset = from && presetOption === undefined ? screenerConfigOf(readFileBytes(from), from) : presetConfig(presetName);
    const spacing = numberOption(args, 'spacing');
    if (spacing !== undefined && !(spacing >= 0.1 && spacing <= 20)) throw new UsageError(`--spacing must be a voxel size in mm (0.1 to 20), got "${stringOption(args, 'spacing')}"`);
    const colour = numberOption(args, 'colour');
    if (colour !== undefined && !(colour >= 0 && colour <= 4)) throw new UsageError(`--colour must be a number from 0 to 4, got "${stringOption(args, 'colour')}"`);
    const spaced = withDensity(spacing === undefined ? preset : withTargetSpacing(preset, spacing), densityOverrides(args));
    const coloured = colour === undefined ? spaced : { ...spaced, ssl: { ...spaced.ssl, colourStrength: colour } };
    const window = huWindowOption(args);
    const config = window ? withHuWindow(coloured, window) : coloured;
    checkBankSizeFits(args, config.density.kind);
    const kinds = parseKinds(stringOption(args, 'kinds'));
    const runtimeKind = runtimeOption(args);

    const log = (line: string) => console.error(`screener train: ${line}`);
    const started = performance.now();
    const { scans, skipped, failed } = loadTrainingScans(data, {
      kinds,
      cacheDir: stringOption(args, 'cache'),
      preprocess: configPreprocessing(config),
      forceGeometry: args.options['force-geometry'] === true,
      onCase: (entry, i, total, cached) => {
        if (process.stderr.isTTY) process.stderr.write(`\rpreprocessing ${i + 1}/${total} ${cached ? '(cached)' : entry.id}\x1b[K`);
      },
    });
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    log(`${counted(scans.length, 'scan')} ready in ${formatDuration((performance.now() - started) / 1000)}${skipped.length ? `; left out ${skipped.length} with lesions of other kinds` : ''}`);
    for (const f of failed) log(`left out ${f.id}: ${f.error}`);

    const meter = new RateMeter();
    let lastPrinted = 0;
    let currentStage = '';
    const run = {
      scans,
      out,
      config,
      seed,
      stage: stage as Stage | undefined,
      steps,
      resume: args.options.resume === true,
      from,
      log,
      onStep: (record: LossRecord, position: TrainingPosition) => {
        if (record.stage !== currentStage) {
          currentStage = record.stage;
          meter.reset();
        }
        const line = progressLine({ ...position, loss: record.loss, stepsPerSecond: meter.tick() });
        const now = performance.now();
        if (process.stderr.isTTY) process.stderr.write(`\r${line}\x1b[K${position.step === position.steps ? '\n' : ''}`);
        else if (now - lastPrinted > 30_000 || position.step === position.steps || position.step === 1) {
          process.stderr.write(`${line}\n`);
          lastPrinted = now;
        }
      },
    };
    // The same run either way: in this process, or in headless Chromium with its files written here.
    const result = await withRuntime(runtimeKind, {
      node: (runtime, adapter) => {
        log(`adapter: ${adapter}`);
        return runTraining({ runtime, ...run });
      },
      chromium: (chromium, adapter) => {
        log(`adapter: ${adapter}`);
        return chromium.train(run);
      },
    });
    const paths = trainPaths(out);
    log(`wrote ${paths.model}, ${paths.checkpoint}, ${paths.csv}, ${paths.png}`);
    console.log(summaryLine(result));
    return 0;
  },
});

/** The overwrite rule of the usage text, and the checks every command makes (output-paths.ts). */
function checkTrainPaths(args: ParsedArgs, out: string, data: string[], from: string | undefined, stage: string | undefined): void {
  const paths = trainPaths(out);
  const force = args.options.force === true;
  // Runs that continue the files at --out replace them by their nature; a new run must be told to.
  const continues = args.options.resume === true || (stage !== undefined && stage !== 'descriptor' && from === undefined);
  if (!continues && !force && existsSync(paths.checkpoint)) {
    throw new DataError(paths.checkpoint, 'a checkpoint of an earlier run is here: continue that run with --resume, or start a new one over it with --force');
  }
  checkRunPaths({
    inputs: [...(from !== undefined ? [{ option: '--from', path: from }] : []), ...data.map((path) => ({ option: '--data', path }))],
    outputs: [
      { option: '--out', path: paths.model, replaces: continues },
      { option: 'the checkpoint', path: paths.checkpoint, replaces: continues },
      { option: 'the loss CSV', path: paths.csv, replaces: continues },
      { option: 'the loss plot', path: paths.png, replaces: continues },
    ],
    force,
  });
}

function densityOverrides(args: ParsedArgs): { condition?: ConditionKind; kind?: DensityKind; bankSize?: number } & AnomalyOptions {
  return { ...densityChoice(stringOption(args, 'density'), stringOption(args, 'condition')), ...anomalyOptions(args), ...bankSizeOption(args) };
}

/** --hu-window LO,HI: two HU values, the lower first, within what a CT holds. */
function huWindowOption(args: ParsedArgs): [number, number] | undefined {
  const text = stringOption(args, 'hu-window');
  if (text === undefined) return undefined;
  // An empty part would read as 0 HU ("-200," is not a window).
  const parts = text.split(',').map((p) => (p.trim() === '' ? Number.NaN : Number(p)));
  const [lo, hi] = parts;
  const [min, max] = HU_WINDOW_LIMITS;
  if (parts.length !== 2 || !parts.every(Number.isFinite) || !(lo! < hi!) || lo! < min || hi! > max) {
    throw new UsageError(`--hu-window must be two HU values LO,HI with LO < HI, within ${min} to ${max} (e.g. -200,300), got "${text}"`);
  }
  return [lo!, hi!];
}

function parseKinds(text: string | undefined): string[] | undefined {
  if (text === undefined || text === 'all') return undefined;
  if (text === 'training') return [...TRAINING_LESION_KINDS];
  const kinds = text.split(',').map((k) => k.trim()).filter(Boolean);
  for (const k of kinds) if (!(LESION_KINDS as readonly string[]).includes(k)) throw new UsageError(`unknown lesion kind "${k}"; known: ${LESION_KINDS.join(', ')}`);
  return kinds;
}
