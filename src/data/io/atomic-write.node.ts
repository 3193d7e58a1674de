// Writing a file so that nothing half-written is ever left under its real name (Node only).
//
// The bytes go to a hidden temporary name in the destination folder, are flushed to the disk (fsync),
// and only then renamed into place (then the folder itself is synced, so the rename survives a power
// cut). Every temporary file alive is recorded here, so that whoever stops the process (the command
// line's SIGINT and SIGTERM handlers, or an ordinary exit after an error) can remove them all.
// A PendingFile can be reserved long before it is written: a command reserves its outputs before it
// starts working, which proves the folder writable and keeps the temporary name visible meanwhile.
// A large file can be written in parts (append), so that it never has to be whole in memory; it is
// still renamed into place only once complete.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmdirSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { DataError } from '../errors';

const pending = new Set<PendingFile>();
let counter = 0;

/** Removes every temporary file (and folder made for it) still alive; for signal and exit handlers. */
export function discardPendingFiles(): void {
  for (const file of [...pending]) file.discard();
}

// A process that exits normally with writes still pending (an error thrown past them) leaves nothing.
process.on('exit', discardPendingFiles);

function describe(error: unknown): string {
  const code = (error as NodeJS.ErrnoException).code;
  return code ? `${code}: ${(error as Error).message.replace(/^\w+: /, '').replace(/, \w+ '.*'$/, '')}` : String(error);
}

export class PendingFile {
  private fd: number | null;

  private constructor(
    /** The name the user gave; every error message names it, never the temporary file. */
    readonly path: string,
    readonly temporary: string,
    fd: number,
    /** Folders made for this file, deepest first, removed again if it is discarded. */
    private readonly madeFolders: string[],
  ) {
    this.fd = fd;
    pending.add(this);
  }

  /** Creates the folders and the temporary file; fails, naming `path`, when the folder is not writable. */
  static reserve(path: string): PendingFile {
    const dir = resolve(dirname(path));
    const temporary = join(dir, `.${basename(path)}.${process.pid}.${(counter++).toString(36)}.tmp`);
    let made: string | undefined;
    try {
      made = mkdirSync(dir, { recursive: true });
    } catch (error) {
      throw new DataError(path, `cannot create its folder ${dirname(path)} (${describe(error)})`);
    }
    const madeFolders = made ? foldersBetween(made, dir) : [];
    try {
      return new PendingFile(path, temporary, openSync(temporary, 'wx', 0o644), madeFolders);
    } catch (error) {
      removeFolders(madeFolders);
      throw new DataError(path, `cannot write in ${dirname(path)} (${describe(error)})`);
    }
  }

  /** Writes the next bytes of the file under its temporary name. */
  append(bytes: Uint8Array): void {
    if (this.fd === null) throw new Error(`${this.path}: already committed or discarded`);
    try {
      for (let at = 0; at < bytes.length; ) at += writeSync(this.fd, bytes, at, bytes.length - at);
    } catch (error) {
      this.discard();
      throw new DataError(this.path, `cannot write (${describe(error)})`);
    }
  }

  /** Writes the last bytes (if any), flushes the file to the disk and renames it into place. */
  commit(bytes: Uint8Array = new Uint8Array(0)): void {
    if (this.fd === null) throw new Error(`${this.path}: already committed or discarded`);
    try {
      for (let at = 0; at < bytes.length; ) at += writeSync(this.fd, bytes, at, bytes.length - at);
      fsyncSync(this.fd);
      closeSync(this.fd);
      this.fd = null;
      renameSync(this.temporary, this.path);
    } catch (error) {
      this.discard();
      throw new DataError(this.path, `cannot write (${describe(error)})`);
    }
    pending.delete(this);
    syncFolder(dirname(this.path));
  }

  /** Removes the temporary file, and the folders made for it when they are still empty. */
  discard(): void {
    if (!pending.delete(this)) return;
    if (this.fd !== null) {
      try {
        closeSync(this.fd);
      } catch {
        // Already closed by a failed write: nothing to do.
      }
      this.fd = null;
    }
    rmSync(this.temporary, { force: true });
    removeFolders(this.madeFolders);
  }
}

/** Writes a whole file atomically (see the top of this file); errors name `path`. */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  PendingFile.reserve(path).commit(bytes);
}

/** `top` (the first folder mkdir made) and every folder under it down to `dir`, deepest first. */
function foldersBetween(top: string, dir: string): string[] {
  const out: string[] = [];
  for (let d = dir; d.length >= top.length; d = dirname(d)) {
    out.push(d);
    if (d === top || d === dirname(d)) break;
  }
  return out;
}

function removeFolders(deepestFirst: string[]): void {
  for (const dir of deepestFirst) {
    try {
      rmdirSync(dir);
    } catch {
      return; // not empty (another file was written there) or already gone
    }
  }
}

/** Makes a rename durable; some file systems refuse to sync a folder, which loses nothing else. */
function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // best effort
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
