// Where the built bundles are: beside the running CLI bundle (dist/cli.js runs from dist/), else under
// dist/ in the working folder (the sources run in place, as the tests do).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** A built file or folder beside this bundle (dist/), else under dist/ in the working folder. */
export function findBuilt(name: string): string {
  try {
    const beside = fileURLToPath(new URL(`./${name}`, import.meta.url));
    if (existsSync(beside)) return beside;
  } catch {
    // Not running from a file URL: the working folder is all there is.
  }
  return resolve('dist', name);
}
