// Usage text made from the option specs the parser reads, so that what `--help` says and what a
// command accepts cannot drift apart: each option's name, value, description and default come from
// its OptionSpec; only the command-line forms and the closing notes are written by hand.
import type { OptionSpec } from './args';

/** Columns the usage is wrapped to. */
export const USAGE_WIDTH = 100;

export interface UsageText {
  /** The forms of the command line, e.g. "screener info FILE..."; the first follows "usage: ". */
  synopsis: readonly string[];
  options: Readonly<Record<string, OptionSpec>>;
  /** Lines after the options (each wrapped): what the command does beyond its options. */
  notes?: readonly string[];
}

export function formatUsage(usage: UsageText): string {
  const lines = usage.synopsis.flatMap((form, i) => wrapSynopsis(`${i === 0 ? 'usage:' : '      '} ${form}`));
  const options = optionLines(usage.options);
  if (options.length) lines.push('', ...options);
  if (usage.notes?.length) lines.push('', ...usage.notes.flatMap((note) => wrapWords(note, 0)));
  return lines.join('\n');
}

/** `  --name VALUE  description (default D)`, descriptions aligned in one column and wrapped under it. */
export function optionLines(options: Readonly<Record<string, OptionSpec>>): string[] {
  const heads = Object.entries(options).map(([name, spec]) => `  --${name}${spec.value ? ` ${spec.value}` : ''}`);
  const column = Math.max(0, ...heads.map((h) => h.length)) + 2;
  return Object.values(options).flatMap((spec, i) => {
    const [first = '', ...rest] = fill([...words(spec.description), ...defaultWords(spec.default)], column);
    return [heads[i]!.padEnd(column) + first.trimStart(), ...rest];
  });
}

/** "(default 3)", its first two words kept together so that a line never ends in "(default". */
function defaultWords(value: string | number | undefined): string[] {
  if (value === undefined) return [];
  const [first = '', ...rest] = words(`${value})`);
  return [`(default ${first}`, ...rest];
}

function words(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

/** Words of `text` in lines of at most USAGE_WIDTH columns (a longer word stands alone), each indented. */
function wrapWords(text: string, indent: number): string[] {
  return fill(words(text), indent);
}

/**
 * A command-line form wrapped under its arguments ("usage: screener eval " sets the indent),
 * breaking only between bracketed groups so that "[--png overlay.png]" stays on one line.
 */
function wrapSynopsis(line: string): string[] {
  const command = /^\s*\S+(\s+[a-z][a-z-]*)*\s+/.exec(line)?.[0] ?? '';
  const [first = '', ...rest] = fill(synopsisGroups(line.slice(command.length)), command.length);
  return [command + first.trimStart(), ...rest];
}

/** "--data DIR [--model M | --x [--y N]]" -> ["--data", "DIR", "[--model M | --x [--y N]]"]: words, brackets kept whole. */
function synopsisGroups(text: string): string[] {
  const groups: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === ' ' && depth === 0) {
      if (current) groups.push(current);
      current = '';
      continue;
    }
    if (ch === '[') depth++;
    if (ch === ']') depth = Math.max(0, depth - 1);
    current += ch;
  }
  if (current) groups.push(current);
  return groups;
}

/** Pieces joined by spaces into lines of at most USAGE_WIDTH columns, each starting with `indent` spaces. */
function fill(pieces: string[], indent: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const piece of pieces) {
    if (line && indent + line.length + 1 + piece.length > USAGE_WIDTH) {
      lines.push(' '.repeat(indent) + line);
      line = '';
    }
    line += (line ? ' ' : '') + piece;
  }
  lines.push(' '.repeat(indent) + line);
  return lines;
}
