// The Node way for tests to get WebGPU: Dawn, with the software adapter found automatically.
// test/helpers/host.browser.ts has the same exports; the Chromium runner swaps it in.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { nodeGPU, waitWithoutSpinning } from '../../src/gpu/node';
import type { RuntimeOptions } from '../../src/gpu/runtime';

export async function hostGPU(): Promise<GPU> {
  return nodeGPU();
}

/** What a runtime on this host is opened with: Node waits for Dawn without spinning a core. */
export const hostRuntimeOptions: RuntimeOptions = { waitForGpu: waitWithoutSpinning };

/** The built engine bundle (dist/engine.js), loaded the way an embedding program would load it. */
export async function engineBundle(): Promise<typeof import('../../src/engine')> {
  const url = pathToFileURL(resolve('dist/engine.js')).href;
  return import(/* @vite-ignore */ url);
}

/** The built model bundle (dist/screener.js), loaded the way a page loads it. */
export async function screenerBundle(): Promise<typeof import('../../src/screener')> {
  const url = pathToFileURL(resolve('dist/screener.js')).href;
  return import(/* @vite-ignore */ url);
}

/** The text of a built file under dist/. */
export async function distText(name: string): Promise<string> {
  return readFileSync(resolve('dist', name), 'utf8');
}
