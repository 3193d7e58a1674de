// The Node host lets go of Dawn's GPU object only when Dawn is done with it. Dawn polls its instance
// (owned by the GPU object) from setImmediate callbacks while a device's loss is pending; a GPU object
// collected before that poll aborts the process at its very end (std::system_error, exit code 134),
// which `screener doctor` did about once in forty runs. Here a child process forces the collection
// right after the release, so an early release fails every time instead of by chance.
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import * as esbuild from 'esbuild';
import { afterAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
// Inside dist/ so that the child resolves `webgpu` from the project's node_modules.
const dir = mkdtempSync(path.join('dist', 'release-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const child = `
import { nodeRuntime, releaseDawnWhenIdle } from './node.mjs';
async function work() {
  // The runtime is left open and unreferenced once this returns, as a command's main function leaves it.
  const runtime = await nodeRuntime();
  const buffer = runtime.device.createBuffer({ size: 256, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  runtime.device.queue.writeBuffer(buffer, 0, new Float32Array(64));
  await runtime.device.queue.onSubmittedWorkDone();
}
await work();
await releaseDawnWhenIdle();
for (let turn = 0; turn < 8; turn++) {
  globalThis.gc();
  await new Promise((resolve) => setImmediate(resolve));
}
console.log('released');
`;

describe('releaseDawnWhenIdle', () => {
  it('destroys the open devices and drops the GPU object only after Dawn has polled their loss', async () => {
    await esbuild.build({
      entryPoints: [path.resolve('src/gpu/node.ts')],
      outfile: path.join(dir, 'node.mjs'),
      bundle: true,
      format: 'esm',
      platform: 'node',
      target: 'node20',
      external: ['webgpu'],
      logLevel: 'error',
    });
    writeFileSync(path.join(dir, 'child.mjs'), child);
    const { stdout } = await run(process.execPath, ['--expose-gc', path.join(dir, 'child.mjs')], { timeout: 60_000 });
    expect(stdout.trim()).toBe('released');
  });
});
