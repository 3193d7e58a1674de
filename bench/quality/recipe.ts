// A recipe of the quality benchmark: the choices that make a trained Screener (network preset, voxel
// size, density grid, density kind, condition, steps), turned into a configuration and a short name
// that keys its models and results on disk.
import { intOption, numberOption, stringOption, UsageError, type ParsedArgs } from '../../src/cli/args';
import {
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
  /** Scale of the SSL colour augmentations (1: the paper's). */
  colour: number;
}

export const RECIPE_OPTIONS = {
  preset: { type: 'string' },
  spacing: { type: 'string' },
  pool: { type: 'string' },
  density: { type: 'string' },
  condition: { type: 'string' },
  steps: { type: 'string' },
  colour: { type: 'string' },
} as const;

export const RECIPE_USAGE = [
  `  --preset NAME     network preset: ${PRESETS.join(', ')} (default tiny)`,
  '  --spacing MM      voxel size the model works at (default 4)',
  '  --pool N          density-grid pooling along each axis (default 2)',
  '  --density KIND    flow (default) or gaussian',
  '  --condition KIND  masked (default), sincos or none',
  '  --steps N         training steps per stage (default 300)',
  '  --colour S        scale of the colour augmentations (default 1, the paper\'s; 0 turns them off)',
];

export function parseRecipe(args: ParsedArgs): Recipe {
  const preset = stringOption(args, 'preset') ?? 'tiny';
  if (!isPresetName(preset)) throw new UsageError(`--preset must be one of ${PRESETS.join(', ')}`);
  const spacingMm = numberOption(args, 'spacing') ?? 4;
  if (!(spacingMm >= 0.1 && spacingMm <= 20)) throw new UsageError(`--spacing must be a voxel size in mm (0.1 to 20), got "${stringOption(args, 'spacing')}"`);
  const pool = intOption(args, 'pool', 2);
  if (pool < 1 || pool > 4) throw new UsageError('--pool must be 1, 2, 3 or 4');
  const density = stringOption(args, 'density') ?? 'flow';
  if (density !== 'flow' && density !== 'gaussian') throw new UsageError('--density must be flow or gaussian');
  const condition = stringOption(args, 'condition') ?? 'masked';
  if (!['masked', 'sincos', 'none'].includes(condition)) throw new UsageError('--condition must be masked, sincos or none');
  const stepsPerStage = intOption(args, 'steps', 300);
  if (stepsPerStage < 1) throw new UsageError('--steps must be at least 1');
  const colour = numberOption(args, 'colour') ?? 1;
  if (!(colour >= 0 && colour <= 4)) throw new UsageError(`--colour must be a number from 0 to 4, got "${stringOption(args, 'colour')}"`);
  return { preset, spacingMm, pool, density, condition: condition as ConditionKind, stepsPerStage, colour };
}

/** "tiny-4mm-pool2-flow-masked-300" (plus "-colour0.3" off the default): the folder name of the recipe's models and results. */
export function recipeName(r: Recipe): string {
  return `${r.preset}-${r.spacingMm}mm-pool${r.pool}-${r.density}-${r.condition}-${r.stepsPerStage}${r.colour === 1 ? '' : `-colour${r.colour}`}`;
}

export function recipeConfig(r: Recipe): ScreenerConfig {
  const spaced = withTargetSpacing(presetConfig(r.preset), r.spacingMm);
  const config = withDensity(spaced, { kind: r.density, condition: r.condition, poolStride: [r.pool, r.pool, r.pool] as Triple });
  const steps = { descriptor: r.stepsPerStage, condition: r.stepsPerStage, density: r.stepsPerStage };
  const ssl = r.colour === 1 ? config.ssl : { ...config.ssl, colourStrength: r.colour };
  return { ...config, preset: 'custom', ssl, train: { ...config.train, steps } };
}
