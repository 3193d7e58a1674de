// Getting a runtime from any WebGPU implementation (Dawn in Node, navigator.gpu in a page): a device
// with the adapter's own limits rather than the defaults.
import { describeAdapter, REPORTED_LIMITS, requestAdapter, type RequestOptions } from './adapter';
import { Runtime, type RuntimeOptions } from './runtime';

/** A device with every limit the adapter allows and timestamp queries where the adapter has them. */
export async function openRuntime(adapter: GPUAdapter, options: RuntimeOptions = {}): Promise<Runtime> {
  const requiredLimits: Record<string, number> = {};
  for (const name of REPORTED_LIMITS) {
    if (name.startsWith('min')) continue; // alignments: the default is the loosest safe value
    requiredLimits[name] = Number(adapter.limits[name]);
  }
  const requiredFeatures: GPUFeatureName[] = [];
  if (adapter.features.has('timestamp-query')) requiredFeatures.push('timestamp-query');
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures, label: 'screener' });
  return new Runtime(device, describeAdapter(adapter), options);
}

/** Any WebGPU implementation to a runtime, or an error that says what is missing. */
export async function runtimeFromGPU(gpu: GPU, options: RequestOptions & RuntimeOptions = {}): Promise<Runtime> {
  const adapter = await requestAdapter(gpu, options);
  if (!adapter) throw new Error('WebGPU is present but returned no adapter');
  return openRuntime(adapter, options);
}
