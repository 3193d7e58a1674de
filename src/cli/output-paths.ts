// The checks every command makes on its files before it does any work, so that a run never replaces
// what it reads, never overwrites an earlier result it was not asked to, and never fails at the very
// end because its output folder cannot be written.
//
// Paths are compared as the operating system would open them: links followed (realpath), also for a
// file that does not exist yet (its nearest existing folder is resolved). An output may not be any of
// the run's inputs nor another of its outputs; an existing output is replaced only with --force or
// where the command's help states a rule that replaces it (`replaces`).
import { closeSync, existsSync, lstatSync, openSync, readlinkSync, realpathSync, rmSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve } from 'node:path';
import { DataError } from '../data/errors';
import { UsageError } from './args';

export interface NamedPath {
  /** The option that named it ("--in"), or what it is ("checkpoint"), for messages. */
  option: string;
  path: string;
}

export interface OutputPath extends NamedPath {
  /** A file (default) or a folder the command writes files into. */
  kind?: 'file' | 'folder';
  /** An existing file here is replaced without --force, by a rule the command's help states. */
  replaces?: boolean;
}

export interface RunPaths {
  inputs: NamedPath[];
  outputs: OutputPath[];
  /** --force: existing outputs may be replaced. */
  force?: boolean;
}

/**
 * The path the file system would open for `path`: every link followed, also a link whose target does
 * not exist yet (writing through it would create that target) and for a file not yet made.
 */
export function resolveReal(path: string): string {
  const missing: string[] = [];
  let at = resolve(path);
  for (let hops = 0; ; ) {
    try {
      return join(realpathSync(at), ...missing);
    } catch {
      if (hops++ < 40 && isLink(at)) {
        at = resolve(dirname(at), readlinkSync(at));
        continue;
      }
      const parent = dirname(at);
      if (parent === at) return resolve(path);
      missing.unshift(basename(at));
      at = parent;
    }
  }
}

/** Whether `child` is `parent` or lies below it (both resolved paths). */
export function isInside(child: string, parent: string): boolean {
  const rel = relative(parent, child);
  // '' is the folder itself; a path that climbs out starts with '..' followed by a separator.
  const climbs = rel === '..' || rel.startsWith('../') || rel.startsWith('..\\');
  return !climbs && !isAbsolute(rel);
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** Refuses an output name without the expected ending (`--png` a .png, `--out` a .nii or .nii.gz). */
export function requireSuffix(option: string, path: string, pattern: RegExp, endings: string): void {
  if (!pattern.test(path)) throw new UsageError(`${option} must end in ${endings}, got "${path}"`);
}

/** Every check of the top of this file; throws naming the user's path and the option. */
export function checkRunPaths(run: RunPaths): void {
  const inputs = run.inputs.map((p) => ({ ...p, real: resolveReal(p.path) }));
  const seen: (OutputPath & { real: string })[] = [];
  for (const output of run.outputs) {
    const real = resolveReal(output.path);
    const input = inputs.find((i) => i.real === real);
    if (input) throw new DataError(output.path, `${output.option} is the same file as ${input.option} ${input.path}; an output never replaces an input`);
    const twin = seen.find((o) => o.real === real);
    if (twin) throw new DataError(output.path, `${output.option} is the same file as ${twin.option} ${twin.path}`);
    seen.push({ ...output, real });
    checkExisting(output, real, run.force === true);
    checkWritable(output, real);
  }
}

function checkExisting(output: OutputPath, real: string, force: boolean): void {
  if (!existsSync(real)) return;
  const folder = statSync(real).isDirectory();
  if ((output.kind ?? 'file') === 'folder') {
    if (!folder) throw new DataError(output.path, `${output.option} is a file, not a folder`);
    return;
  }
  if (folder) throw new DataError(output.path, `${output.option} is a folder, not a file`);
  if (!output.replaces && !force) throw new DataError(output.path, `${output.option} already exists; pass --force to replace it`);
}

/**
 * Creates and removes a probe file in the folder the output goes to (or the nearest existing folder
 * above it, where that folder will be made): the only test that holds for every user, root included,
 * and on read-only or full file systems.
 */
function checkWritable(output: OutputPath, real: string): void {
  let dir = (output.kind ?? 'file') === 'folder' ? real : dirname(real);
  while (!existsSync(dir)) dir = dirname(dir);
  if (!statSync(dir).isDirectory()) throw new DataError(output.path, `cannot write ${output.option}: ${dir} is a file, not a folder`);
  const probe = join(dir, `.screener-write-probe.${process.pid}.tmp`);
  try {
    closeSync(openSync(probe, 'wx'));
  } catch (error) {
    throw new DataError(output.path, `cannot write ${output.option} in ${dir} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  rmSync(probe, { force: true });
}
