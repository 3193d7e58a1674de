// The Node way for tests to get WebGPU: Dawn, with the software adapter found automatically.
// test/helpers/host.browser.ts has the same exports; the Chromium runner swaps it in.
import { nodeGPU } from '../../src/gpu/node';

export async function hostGPU(): Promise<GPU> {
  return nodeGPU();
}
