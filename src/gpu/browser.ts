// The browser host: a runtime from navigator.gpu.
import type { RequestOptions } from './adapter';
import { runtimeFromGPU } from './open-runtime';
import type { Runtime } from './runtime';

export function browserGPU(): GPU {
  const gpu = (globalThis as { navigator?: { gpu?: GPU } }).navigator?.gpu;
  if (!gpu) {
    throw new Error(
      'WebGPU is not available here: navigator.gpu is missing. It needs a secure context (https or http://localhost) ' +
        'and a browser with WebGPU enabled (Chromium: --enable-unsafe-webgpu where it is not on by default).',
    );
  }
  return gpu;
}

export async function browserRuntime(options: RequestOptions = {}): Promise<Runtime> {
  return runtimeFromGPU(browserGPU(), options);
}
