// A small, strict argument parser: `--name value`, `--flag`, repeated options, positionals.
// Unknown options are errors, so a typo never silently falls back to a default.

export interface OptionSpec {
  /** 'string' takes a value, 'boolean' is a flag, 'list' may repeat and collects values. */
  type: 'string' | 'boolean' | 'list';
  description?: string;
}

export interface ParsedArgs {
  options: Record<string, string | boolean | string[] | undefined>;
  positionals: string[];
}

export class UsageError extends Error {
  override name = 'UsageError';
}

export function parseArgs(argv: string[], spec: Record<string, OptionSpec>): ParsedArgs {
  const options: ParsedArgs['options'] = {};
  const positionals: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
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
  return { options, positionals };
}

/** Reads an integer option, with a default and a clear error for anything that is not one. */
export function intOption(args: ParsedArgs, name: string, fallback: number): number {
  const raw = args.options[name];
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (typeof raw !== 'string' || !Number.isInteger(value)) throw new UsageError(`--${name} must be an integer, got "${raw}"`);
  return value;
}

export function stringOption(args: ParsedArgs, name: string): string | undefined {
  const raw = args.options[name];
  return typeof raw === 'string' ? raw : undefined;
}

/** --overlap F of the sliding windows, in [0, 1); 0.5 (the paper's) when absent. */
export function overlapOption(args: ParsedArgs): number {
  const text = stringOption(args, 'overlap');
  const overlap = text === undefined ? 0.5 : Number(text);
  if (!(overlap >= 0 && overlap < 1)) throw new UsageError(`--overlap must be a number in [0, 1), got "${text}"`);
  return overlap;
}
