// A recipe of the quality benchmark: the choices that make a trained Screener (network preset, voxel
// size, density grid, density kind, condition, steps), turned into a configuration and a short name
// that keys its models and results on disk.
import { intOption, numberOption, stringOption, UsageError, type OptionSpec, type ParsedArgs } from '../../src/cli/args';
import { bankSizeOption, checkBankSizeFits, densityChoice } from '../../src/cli/density-options';
import {
  DEFAULT_BANK_SIZE,
  isPresetName,
  presetConfig,
  PRESETS,
  withDensity,
  withTargetSpacing,
  type ConditionKind,
  type DensityKind,
  type PresetName,
  type ScreenerConfig,
  type Triple,
} from '../../src/model/config';

export interface Recipe {
  preset: PresetName;
  spacingMm: number;
  /** Pooling of the density grid, the same along every axis. */
  pool: number;
  density: DensityKind;
  condition: ConditionKind;
  stepsPerStage: number;
  /** Steps of the descriptor stage when they differ from stepsPerStage (the shipped recipe: 3000, its bank 300). */
  descriptorSteps?: number;
  /** Scale of the SSL colour augmentations (1: the paper's). */
  colour: number;
  /** A knn density's bank rows (absent: the config's default). */
  bankSize?: number;
}

/** The options that choose a recipe, with the defaults of the benchmark's own recipe. */
export const RECIPE_OPTIONS = {
  preset: { type: 'string', value: 'NAME', description: `network preset: ${PRESETS.join(', ')}`, default: 'tiny' },
  spacing: { type: 'string', value: 'MM', description: 'voxel size the model works at', default: 4 },
  pool: { type: 'string', value: 'N', description: 'density-grid pooling along each axis', default: 2 },
  density: { type: 'string', value: 'KIND', description: 'flow, gaussian or knn (unconditioned: a bank of training descriptors)', default: 'flow' },
  condition: { type: 'string', value: 'KIND', description: 'masked, sincos or none', default: 'masked; none for knn' },
  steps: { type: 'string', value: 'N', description: 'training steps per stage', default: 300 },
  'descriptor-steps': { type: 'string', value: 'N', description: 'training steps of the descriptor stage', default: 'the same as --steps' },
  colour: { type: 'string', value: 'S', description: "scale of the colour augmentations: 1 is the paper's, 0 turns them off", default: 1 },
  'bank-size': { type: 'string', value: 'N', description: 'descriptors a knn density keeps in its bank', default: DEFAULT_BANK_SIZE },
} as const satisfies Record<string, OptionSpec>;

export function parseRecipe(args: ParsedArgs): Recipe {
  const preset = stringOption(args, 'preset') ?? RECIPE_OPTIONS.preset.default;
  if (!isPresetName(preset)) throw new UsageError(`--preset must be one of ${PRESETS.join(', ')}`);
  const spacingMm = numberOption(args, 'spacing') ?? RECIPE_OPTIONS.spacing.default;
  if (!(spacingMm >= 0.1 && spacingMm <= 20)) throw new UsageError(`--spacing must be a voxel size in mm (0.1 to 20), got "${stringOption(args, 'spacing')}"`);
  const pool = intOption(args, 'pool', RECIPE_OPTIONS.pool.default);
  if (pool < 1 || pool > 4) throw new UsageError('--pool must be 1, 2, 3 or 4');
  const chosen = densityChoice(stringOption(args, 'density'), stringOption(args, 'condition'));
  const density = chosen.kind ?? RECIPE_OPTIONS.density.default;
  const condition = chosen.condition ?? 'masked';
  const stepsPerStage = intOption(args, 'steps', RECIPE_OPTIONS.steps.default);
  if (stepsPerStage < 1) throw new UsageError('--steps must be at least 1');
  const descriptorSteps = intOption(args, 'descriptor-steps', stepsPerStage);
  if (descriptorSteps < 1) throw new UsageError('--descriptor-steps must be at least 1');
  const colour = numberOption(args, 'colour') ?? RECIPE_OPTIONS.colour.default;
  if (!(colour >= 0 && colour <= 4)) throw new UsageError(`--colour must be a number from 0 to 4, got "${stringOption(args, 'colour')}"`);
  const { bankSize } = bankSizeOption(args);
  checkBankSizeFits(args, density);
  return {
    preset,
    spacingMm,
    pool,
    density,
    condition,
    stepsPerStage,
    ...(descriptorSteps !== stepsPerStage ? { descriptorSteps } : {}),
    colour,
    ...(bankSize !== undefined ? { bankSize } : {}),
  };
}

/** "tiny-4mm-pool2-flow-masked-300" (plus "-descriptor3000", "-colour0.3", "-bank16384" off the defaults): the folder name of the recipe's models and results. */
export function recipeName(r: Recipe): string {
  const descriptor = r.descriptorSteps === undefined ? '' : `-descriptor${r.descriptorSteps}`;
  const colour = r.colour === 1 ? '' : `-colour${r.colour}`;
  const bank = r.bankSize === undefined || r.bankSize === DEFAULT_BANK_SIZE ? '' : `-bank${r.bankSize}`;
  return `${r.preset}-${r.spacingMm}mm-pool${r.pool}-${r.density}-${r.condition}-${r.stepsPerStage}${descriptor}${colour}${bank}`;
}

export function recipeConfig(r: Recipe): ScreenerConfig {
  const spaced = withTargetSpacing(presetConfig(r.preset), r.spacingMm);
  const bank = r.bankSize === undefined ? {} : { bankSize: r.bankSize };
  const config = withDensity(spaced, { kind: r.density, condition: r.condition, poolStride: [r.pool, r.pool, r.pool] as Triple, ...bank });
  const steps = { descriptor: r.descriptorSteps ?? r.stepsPerStage, condition: r.stepsPerStage, density: r.stepsPerStage };
  const ssl = r.colour === 1 ? config.ssl : { ...config.ssl, colourStrength: r.colour };
  return { ...config, preset: 'custom', ssl, train: { ...config.train, steps } };
}
