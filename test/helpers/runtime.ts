// One runtime per test file, from whichever host the suite runs in (Node or Chromium).
import { runtimeFromGPU } from '../../src/gpu/open-runtime';
import type { Runtime } from '../../src/gpu/runtime';
import { hostGPU, hostRuntimeOptions } from './host';

let shared: Promise<Runtime> | undefined;

export function testRuntime(): Promise<Runtime> {
  shared ??= hostGPU()
    .then((gpu) => runtimeFromGPU(gpu, hostRuntimeOptions))
    .then((runtime) => {
      runtime.poisonBuffers = true; // kernels must write every output element (DESIGN: Kernels)
      return runtime;
    });
  return shared;
}

/** A fresh runtime of its own, for tests that destroy their device. */
export async function privateRuntime(): Promise<Runtime> {
  return runtimeFromGPU(await hostGPU(), hostRuntimeOptions);
}
