// --density KIND, --condition KIND and --bank-size N, as `train` and the quality benchmark read them:
// each checked, and the knn density's condition implied. A knn density is unconditioned, so leaving
// --condition out means none, and asking for another is refused rather than silently dropped.
import { countOption, UsageError, type ParsedArgs } from './args';
import { CONDITION_KINDS, DENSITY_KINDS, type ConditionKind, type DensityKind } from '../model/config';
import { MAX_BANK_SIZE } from '../model/validate-config';

/** The density kind and condition asked for (each absent when not given and not implied). */
export function densityChoice(density: string | undefined, condition: string | undefined): { kind?: DensityKind; condition?: ConditionKind } {
  if (density !== undefined && !(DENSITY_KINDS as readonly string[]).includes(density)) throw new UsageError(`--density must be one of ${DENSITY_KINDS.join(', ')}`);
  if (condition !== undefined && !(CONDITION_KINDS as readonly string[]).includes(condition)) throw new UsageError('--condition must be masked, sincos or none');
  if (density === 'knn' && condition !== undefined && condition !== 'none') {
    throw new UsageError(`a knn density is unconditioned: leave out --condition or give --condition none, not ${condition}`);
  }
  const implied = density === 'knn' ? 'none' : condition;
  return { ...(density ? { kind: density as DensityKind } : {}), ...(implied ? { condition: implied as ConditionKind } : {}) };
}

/** --bank-size N: a whole number of knn bank rows within what a config may hold (absent: the config's default). */
export function bankSizeOption(args: ParsedArgs): { bankSize?: number } {
  const bankSize = countOption(args, 'bank-size', MAX_BANK_SIZE);
  return bankSize === undefined ? {} : { bankSize };
}

/** Refuses --bank-size for a density that is not knn: it would be kept in the model and never used. */
export function checkBankSizeFits(args: ParsedArgs, density: DensityKind): void {
  if (args.options['bank-size'] !== undefined && density !== 'knn') {
    throw new UsageError(`--bank-size is for a knn density (--density knn); this run trains a ${density} density`);
  }
}
