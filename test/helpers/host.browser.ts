// Browser counterpart of test/helpers/host.ts: the browser runner (test/browser/run.mjs) bundles
// this file wherever a test imports host.ts, so the same test gets its GPU from the page.
import type { RuntimeOptions } from '../../src/gpu/runtime';

export async function hostGPU(): Promise<GPU> {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) {
    throw new Error(
      'WebGPU is unavailable in this page (navigator.gpu is undefined): start Chromium with ' +
        '--enable-unsafe-webgpu and load the page from http://localhost or http://127.0.0.1 ' +
        '(a secure context), not from a file: or data: URL.',
    );
  }
  return gpu;
}

/** What a runtime in a page is opened with: the defaults (a page's GPU process does the polling). */
export const hostRuntimeOptions: RuntimeOptions = {};

/** The built engine bundle (dist/engine.js), served by the test server from the repository root. */
export async function engineBundle(): Promise<typeof import('../../src/engine')> {
  const url = new URL('/dist/engine.js', location.href).href;
  return import(/* @vite-ignore */ url);
}

/** The built model bundle (dist/screener.js), as a page imports it. */
export async function screenerBundle(): Promise<typeof import('../../src/screener')> {
  const url = new URL('/dist/screener.js', location.href).href;
  return import(/* @vite-ignore */ url);
}

/** The text of a built file under dist/, fetched from the test server. */
export async function distText(name: string): Promise<string> {
  const response = await fetch(new URL(`/dist/${name}`, location.href));
  if (!response.ok) throw new Error(`dist/${name}: ${response.status} (run npm run build first)`);
  return response.text();
}
