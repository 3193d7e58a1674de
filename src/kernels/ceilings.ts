// The device's own ceilings, measured rather than assumed: GFLOP/s of a pure-FMA kernel and GB/s of a
// large buffer-to-buffer copy. Every benchmark states its figures as a fraction of these.
import source from '../../shaders/fma.wgsl';
import type { Runtime } from '../gpu/runtime';
import { kernelSource } from '../gpu/shader';
import { timeGpu, type Timing } from '../gpu/timing';
import { uniforms } from '../gpu/uniforms';

export interface Ceilings {
  fmaGflops: number;
  copyGBps: number;
  fma: Timing & { flops: number };
  copy: Timing & { bytes: number };
}

const FLOPS_PER_ITERATION = 64; // 8 vec4 fma per iteration, 2 FLOPs each
const TARGET_MS = 40; // long enough that submission overhead is a small share

/** Adapts the amount of work until one run takes about TARGET_MS, then takes the median of `runs`. */
export async function measureFma(runtime: Runtime, runs = 7): Promise<Ceilings['fma']> {
  const code = kernelSource(source);
  // Enough invocations to fill a large GPU several times over; a software adapter simply loops.
  // (A software adapter runs a workgroup's invocations as loops over SIMD lanes: small groups suit it.)
  const workgroupSize = runtime.adapter.software ? 64 : 256;
  const workgroups = runtime.adapter.software ? 64 : 4096;
  const invocations = workgroups * workgroupSize;
  const sink = runtime.buffer(invocations * 4, 'fma sink');
  let iterations = 16;
  const run = () =>
    runtime.dispatch({
      kernel: 'fma',
      source: code,
      constants: { WORKGROUP: workgroupSize },
      buffers: [sink],
      uniforms: uniforms().u32(iterations).f32(0.999).bytes(),
      workgroups,
    });
  try {
    for (;;) {
      const probe = await timeGpu(runtime, run, { warmup: 1, runs: 1 });
      if (probe.medianMs >= TARGET_MS || iterations >= 1 << 24) break;
      iterations *= Math.min(16, Math.max(2, Math.ceil(TARGET_MS / Math.max(probe.medianMs, 0.05))));
    }
    const timing = await timeGpu(runtime, run, { warmup: 2, runs });
    return { ...timing, flops: invocations * iterations * FLOPS_PER_ITERATION };
  } finally {
    runtime.release(sink);
  }
}

export async function measureCopy(runtime: Runtime, runs = 7): Promise<Ceilings['copy']> {
  const bytes = Math.min(runtime.adapter.software ? 64 * 2 ** 20 : 256 * 2 ** 20, runtime.limits.maxBufferSize / 2);
  const source = runtime.buffer(bytes, 'copy source');
  const target = runtime.buffer(bytes, 'copy target');
  let repeats = 1;
  const run = () => {
    for (let i = 0; i < repeats; i++) runtime.copy(source, 0, target, 0, bytes);
  };
  try {
    for (;;) {
      const probe = await timeGpu(runtime, run, { warmup: 1, runs: 1 });
      if (probe.medianMs >= TARGET_MS || repeats >= 256) break;
      repeats *= Math.min(16, Math.max(2, Math.ceil(TARGET_MS / Math.max(probe.medianMs, 0.05))));
    }
    const timing = await timeGpu(runtime, run, { warmup: 2, runs });
    // Every byte copied is read once and written once.
    return { ...timing, bytes: 2 * bytes * repeats };
  } finally {
    runtime.release(source);
    runtime.release(target);
  }
}

export async function measureCeilings(runtime: Runtime, runs = 7): Promise<Ceilings> {
  const fma = await measureFma(runtime, runs);
  const copy = await measureCopy(runtime, runs);
  return {
    fmaGflops: fma.flops / (fma.medianMs * 1e6),
    copyGBps: copy.bytes / (copy.medianMs * 1e6),
    fma,
    copy,
  };
}
