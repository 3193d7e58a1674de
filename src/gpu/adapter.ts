// What an adapter is (a plain description, software or not) and what it allows (the limits that
// matter), and asking any WebGPU implementation for one. open-runtime.ts turns it into a runtime.

export interface AdapterReport {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (SwiftShader, llvmpipe, WARP) or an adapter that says it is a fallback. */
  software: boolean;
}

/** The limits requested from the adapter and reported by `screener doctor`. */
export const REPORTED_LIMITS = [
  'maxStorageBufferBindingSize',
  'maxBufferSize',
  'maxComputeWorkgroupStorageSize',
  'maxComputeInvocationsPerWorkgroup',
  'maxComputeWorkgroupSizeX',
  'maxComputeWorkgroupsPerDimension',
  'maxStorageBuffersPerShaderStage',
  'maxUniformBufferBindingSize',
  'minUniformBufferOffsetAlignment',
  'minStorageBufferOffsetAlignment',
] as const;

export type ReportedLimits = Record<(typeof REPORTED_LIMITS)[number], number>;

const softwareNames = /swiftshader|llvmpipe|lavapipe|softpipe|warp|basic render|microsoft basic|cpu/i;

export function describeAdapter(adapter: GPUAdapter): AdapterReport {
  const info = adapter.info;
  const vendor = info?.vendor ?? '';
  const architecture = info?.architecture ?? '';
  const device = info?.device ?? '';
  const description = info?.description ?? '';
  const fallback = Boolean((info as { isFallbackAdapter?: boolean } | undefined)?.isFallbackAdapter);
  const software = fallback || softwareNames.test(`${vendor} ${architecture} ${device} ${description}`);
  return { vendor, architecture, device, description, software };
}

/** "vendor / architecture / device" (the description where no device name is given), for reports and logs. */
export function adapterName(report: AdapterReport): string {
  return [report.vendor, report.architecture, report.device || report.description].filter(Boolean).join(' / ') || 'unnamed adapter';
}

export function adapterLimits(adapter: GPUAdapter): ReportedLimits {
  const limits = {} as ReportedLimits;
  for (const name of REPORTED_LIMITS) limits[name] = Number(adapter.limits[name]);
  return limits;
}

export interface RequestOptions {
  powerPreference?: GPUPowerPreference;
  forceFallbackAdapter?: boolean;
}

export async function requestAdapter(gpu: GPU, options: RequestOptions = {}): Promise<GPUAdapter | null> {
  return gpu.requestAdapter({
    powerPreference: options.powerPreference ?? 'high-performance',
    forceFallbackAdapter: options.forceFallbackAdapter,
  });
}
