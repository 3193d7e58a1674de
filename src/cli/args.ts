// A small, strict argument parser: `--name value`, `--flag`, repeated options, positionals, and
// `--help`/`-h` wherever an option may stand. The same specs make the usage text (usage.ts).
// Unknown options are errors, so a typo never silently falls back to a default; so are positional
// arguments a command does not take (a forgotten `--in` would otherwise be silently ignored) and
// numbers that are not plain decimals (JavaScript's Number() would read "0x10" as 16 and "" as 0).
import { SCAN_REFERENCE_APART_MM } from '../model/scan-reference';
import { ANOMALY_SCORES, KNN_REFERENCES, MAX_MAP_SMOOTHING_MM, SCAN_REFERENCE_ROWS, type AnomalyOptions, type AnomalyScore, type KnnReference } from '../model/config';
import { MAX_SCAN_REFERENCE_ROWS } from '../model/validate-config';

export interface OptionSpec {
  /** 'string' takes a value, 'boolean' is a flag, 'list' may repeat and collects values. */
  type: 'string' | 'boolean' | 'list';
  /** What the value is, in the usage: `--out DIR`. Options that take a value name it. */
  value?: string;
  /** What the option does; the usage wraps it beside the option. */
  description: string;
  /** The value used when the option is absent, shown after the description as "(default ...)". */
  default?: string | number;
}

export interface ParsedArgs {
  options: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
  /** `--help` or `-h` was given: the caller prints the usage instead of running. */
  help: boolean;
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface ParseOptions {
  /** Whether the command takes positional arguments (FILE...); by default any one is an error. */
  positionals?: boolean;
}

export function parseArgs(argv: string[], spec: Record<string, OptionSpec>, parse: ParseOptions = {}): ParsedArgs {
  const options: ParsedArgs['options'] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--help' || arg === '-h') return { options, positionals, help: true };
    if (!arg.startsWith('--')) {
      if (!parse.positionals) throw new UsageError(`unexpected argument "${arg}" (every input is given by an option)`);
      positionals.push(arg);
      continue;
    }
    const eq = arg.indexOf('=');
    const name = arg.slice(2, eq < 0 ? undefined : eq);
    const kind = spec[name];
    if (!kind) throw new UsageError(`unknown option --${name}`);
    if (kind.type === 'boolean') {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      options[name] = true;
      continue;
    }
    let value: string | undefined = eq >= 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined) throw new UsageError(`--${name} needs a value`);
    if (kind.type === 'list') ((options[name] as string[] | undefined) ?? (options[name] = [])).push(value);
    else options[name] = value;
  }
  return { options, positionals, help: false };
}

const DECIMAL_INTEGER = /^[+-]?\d+$/;
const DECIMAL_NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;

/** Reads an integer option, with a default and a clear error for anything that is not a decimal integer. */
export function intOption(args: ParsedArgs, name: string, fallback: number): number {
  const raw = args.options[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || !DECIMAL_INTEGER.test(raw.trim()) || !Number.isSafeInteger(value)) {
    throw new UsageError(`--${name} must be a decimal integer, got "${raw}"`);
  }
  return value;
}

/** A whole number from 1 to `max` (a count of rows, cells...); undefined when absent. */
export function countOption(args: ParsedArgs, name: string, max: number): number | undefined {
  if (args.options[name] === undefined) return undefined;
  const value = intOption(args, name, 1);
  if (value < 1 || value > max) throw new UsageError(`--${name} must be from 1 to ${max}, got "${stringOption(args, name)}"`);
  return value;
}

/** Reads a decimal number option (as "2.5" or "1e-3"; not hexadecimal, not empty); undefined when absent. */
export function numberOption(args: ParsedArgs, name: string): number | undefined {
  const raw = args.options[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !DECIMAL_NUMBER.test(raw.trim())) throw new UsageError(`--${name} must be a decimal number, got "${raw}"`);
  return Number(raw);
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const raw = args.options[name];
  return typeof raw === 'string' ? raw : undefined;
}

/** --overlap F of the sliding windows, for the commands that score scans; 0.5 is the paper's. */
export const OVERLAP_OPTION = {
  overlap: { type: 'string', value: 'F', description: 'overlap of the sliding windows, in [0, 1); less is faster', default: 0.5 },
} as const satisfies Record<string, OptionSpec>;

/** --score, --smooth, --reference and --reference-rows: how the commands that score scans make Screener's anomaly map from its density. */
export const ANOMALY_OPTIONS = {
  score: {
    type: 'string',
    value: 'nll|latent',
    description: "Screener's anomaly score: nll (the paper's negative log-likelihood) or latent (its energy term, without the log-determinant)",
    default: "the model's (nll unless its config names another)",
  },
  smooth: {
    type: 'string',
    value: 'MM',
    description: "standard deviation in mm of a Gaussian that smooths Screener's anomaly map (0: none)",
    default: "the model's (none unless its config names one)",
  },
  reference: {
    type: 'string',
    value: 'bank|scan|both',
    description:
      `what a knn model compares each voxel's descriptor with: bank (the training scans' descriptors), scan (the same scan's own, more than ${SCAN_REFERENCE_APART_MM} mm away), both (the nearer)`,
    default: "the model's (bank unless its config names another)",
  },
  'reference-rows': {
    type: 'string',
    value: 'N',
    description: "the most cells of the scan a knn model takes as its reference with --reference scan or both (a draw of N when the scan has more); more find healthy tissue nearer matches, and the search takes time in proportion",
    default: `the model's (${SCAN_REFERENCE_ROWS}, every cell of a scan, unless its config names another)`,
  },
} as const satisfies Record<string, OptionSpec>;

/** --score nll|latent, --smooth MM, --reference bank|scan|both and --reference-rows N, each undefined when absent (the model's own then). */
export function anomalyOptions(args: ParsedArgs): AnomalyOptions {
  const score = stringOption(args, 'score');
  if (score !== undefined && !(ANOMALY_SCORES as readonly string[]).includes(score)) throw new UsageError(`--score must be one of ${ANOMALY_SCORES.join(', ')}, got "${score}"`);
  const smoothMm = numberOption(args, 'smooth');
  if (smoothMm !== undefined && !(smoothMm >= 0 && smoothMm <= MAX_MAP_SMOOTHING_MM)) {
    throw new UsageError(`--smooth must be a number of mm from 0 to ${MAX_MAP_SMOOTHING_MM}, got "${stringOption(args, 'smooth')}"`);
  }
  const reference = stringOption(args, 'reference');
  if (reference !== undefined && !(KNN_REFERENCES as readonly string[]).includes(reference)) throw new UsageError(`--reference must be one of ${KNN_REFERENCES.join(', ')}, got "${reference}"`);
  const referenceRows = countOption(args, 'reference-rows', MAX_SCAN_REFERENCE_ROWS);
  return {
    ...(score !== undefined ? { score: score as AnomalyScore } : {}),
    ...(smoothMm !== undefined ? { smoothMm } : {}),
    ...(reference !== undefined ? { reference: reference as KnnReference } : {}),
    ...(referenceRows !== undefined ? { referenceRows } : {}),
  };
}

/** --overlap F of the sliding windows, in [0, 1); the default when absent. */
export function overlapOption(args: ParsedArgs): number {
  const overlap = numberOption(args, 'overlap') ?? OVERLAP_OPTION.overlap.default;
  if (!(overlap >= 0 && overlap < 1)) throw new UsageError(`--overlap must be a number in [0, 1), got "${stringOption(args, 'overlap')}"`);
  return overlap;
}
