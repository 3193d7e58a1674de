// Getting the page's WebGPU device, and saying plainly what to do when there is none.
import { adapterName, browserRuntime, type Runtime } from '../screener';

export interface GpuStatus {
  runtime: Runtime | null;
  /** "google / swiftshader (software adapter)", or why there is no device. */
  label: string;
  software: boolean;
  /** Set when WebGPU cannot be used: what is wrong and how to turn it on. */
  problem?: string;
}

/** Which browser setting enables WebGPU, by browser; shown when navigator.gpu is missing. */
export function webgpuHelp(): string {
  return [
    'Chrome and Edge 113 or newer have it on by default on Windows, macOS and ChromeOS (Android: 121 or newer).',
    'Chrome or Chromium on Linux: start it with --enable-unsafe-webgpu (or turn on chrome://flags/#enable-unsafe-webgpu,',
    'and #enable-vulkan for Chrome), then reload. Without a GPU it uses SwiftShader, a software adapter: slower, but it works.',
    'Firefox: on by default from 141 on Windows; elsewhere set dom.webgpu.enabled to true in about:config.',
    'Safari: on by default from Safari 26; before that, Develop > Feature Flags > WebGPU.',
  ].join('\n');
}

export async function startGpu(): Promise<GpuStatus> {
  if (!window.isSecureContext) {
    return {
      runtime: null,
      label: 'no WebGPU',
      software: false,
      problem: `WebGPU needs a secure context: open the page as http://127.0.0.1:${location.port || '8080'}/ or http://localhost (or https), not ${location.origin}.`,
    };
  }
  if (!('gpu' in navigator)) {
    return { runtime: null, label: 'no WebGPU', software: false, problem: `This browser does not offer WebGPU (navigator.gpu is missing), so Screener cannot run here; the viewer still works.\n${webgpuHelp()}` };
  }
  try {
    const runtime = await browserRuntime();
    const a = runtime.adapter;
    const name = adapterName(a);
    return { runtime, label: `${name} (${a.software ? 'software adapter: slow' : 'GPU'})`, software: a.software };
  } catch (error) {
    return {
      runtime: null,
      label: 'no WebGPU adapter',
      software: false,
      problem: `WebGPU did not give this page a device (${error instanceof Error ? error.message : String(error)}): it is turned off or blocked here, so Screener cannot run; the viewer still works.\n${webgpuHelp()}`,
    };
  }
}
