// The runtime on a real device, in Node and in Chromium: round trips, the pool, the pipeline cache,
// batching, errors that name their kernel, folded dispatches, profiling and device loss.
import { beforeAll, describe, expect, it } from 'vitest';
import { DeviceLostError, GpuValidationError } from '../../src/gpu/errors';
import type { Runtime } from '../../src/gpu/runtime';
import { kernelSource } from '../../src/gpu/shader';
import { uniforms } from '../../src/gpu/uniforms';
import { plainAwait } from '../../src/gpu/wait';
import { runtimeFromGPU } from '../../src/gpu/open-runtime';
import { hostGPU, hostRuntimeOptions } from '../helpers/host';
import { privateRuntime, testRuntime } from '../helpers/runtime';

// Adds `amount` to every element; one invocation per element, folded grids allowed.
const addKernel = kernelSource(`
override WORKGROUP: u32 = 64;
struct Params { n: u32, amount: f32 }
@group(0) @binding(0) var<storage, read_write> data: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;
@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  if (i >= params.n) { return; }
  data[i] = data[i] + params.amount;
}`);

function addOne(runtime: Runtime, buffer: GPUBuffer, n: number, amount = 1, workgroup = 64): void {
  runtime.dispatch({
    kernel: 'add',
    source: addKernel,
    constants: { WORKGROUP: workgroup },
    buffers: [buffer],
    uniforms: uniforms().u32(n).f32(amount).bytes(),
    workgroups: Math.ceil(n / workgroup),
  });
}

let runtime: Runtime;
beforeAll(async () => {
  runtime = await testRuntime();
});

describe('round trips', () => {
  it('returns exactly what was uploaded, for odd sizes and offsets', async () => {
    for (const n of [1, 3, 17, 255, 1000, 65537]) {
      const data = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 43758.5453);
      const buffer = runtime.upload(data);
      expect(await runtime.readFloat32(buffer, n)).toEqual(data);
      if (n > 3) expect(await runtime.readFloat32(buffer, 2, 1)).toEqual(data.subarray(1, 3));
      runtime.release(buffer);
    }
  });

  it('keeps byte lengths that are not a multiple of four', async () => {
    const bytes = Uint8Array.from([1, 2, 3, 4, 5, 6, 7]);
    const buffer = runtime.upload(bytes);
    expect(new Uint8Array(await runtime.read(buffer, 0, 7))).toEqual(bytes);
    runtime.release(buffer);
  });

  it('orders a write after the dispatches issued before it', async () => {
    const buffer = runtime.upload(new Float32Array([10, 20]));
    addOne(runtime, buffer, 2); // pending: reads the old contents
    runtime.write(buffer, new Float32Array([100]), 4); // must land after the add
    expect(Array.from(await runtime.readFloat32(buffer, 2))).toEqual([11, 100]);
    runtime.release(buffer);
  });
});

describe('buffer pool', () => {
  it('hands a released buffer back for the next request of its bucket', () => {
    const first = runtime.buffer(1000);
    runtime.release(first);
    const before = runtime.poolStats();
    const second = runtime.buffer(1020); // same 1024-byte bucket
    expect(second).toBe(first);
    const after = runtime.poolStats();
    expect(after.hits).toBe(before.hits + 1);
    expect(after.misses).toBe(before.misses);
    expect(after.liveBytes).toBe(before.liveBytes + 1024);
    runtime.release(second);
    expect(() => runtime.release(second)).toThrow(/not live/);
  });

  it('does not let upload() overwrite a buffer that unsubmitted work still reads', async () => {
    const a = runtime.upload(new Float32Array([1, 2, 3]));
    addOne(runtime, a, 3);
    runtime.release(a); // back in the pool while the add is still unsubmitted
    const b = runtime.upload(new Float32Array([7, 7, 7]));
    expect(b).not.toBe(a);
    expect(Array.from(await runtime.readFloat32(b, 3))).toEqual([7, 7, 7]);
    runtime.release(b);
  });

  it('destroys idle buffers beyond the cap, and trim() frees them all', () => {
    const saved = runtime.pool.maxIdleBytes;
    const held = [runtime.buffer(4096), runtime.buffer(4096)];
    runtime.pool.maxIdleBytes = runtime.poolStats().idleBytes + 4096;
    const allocated = runtime.poolStats().allocatedBytes;
    held.forEach((b) => runtime.release(b));
    expect(runtime.poolStats().allocatedBytes).toBe(allocated - 4096);
    runtime.pool.trim();
    expect(runtime.poolStats().idleBytes).toBe(0);
    runtime.pool.maxIdleBytes = saved;
    runtime.flush();
  });
});

describe('pipelines and batching', () => {
  it('compiles a pipeline once per source and constants', async () => {
    const buffer = runtime.upload(new Float32Array(8));
    const before = runtime.cacheStats();
    addOne(runtime, buffer, 8, 1, 32);
    addOne(runtime, buffer, 8, 1, 32);
    addOne(runtime, buffer, 8, 1, 16);
    const after = runtime.cacheStats();
    expect(after.misses - before.misses).toBe(2);
    expect(after.hits - before.hits).toBe(1);
    expect(Array.from(await runtime.readFloat32(buffer, 8))).toEqual(new Array(8).fill(3));
    runtime.release(buffer);
  });

  it('runs hundreds of dispatches in one batch, in order', async () => {
    const n = 1001;
    const buffer = runtime.upload(new Float32Array(n));
    for (let i = 0; i < 500; i++) addOne(runtime, buffer, n, i % 2 ? 2 : -1);
    const out = await runtime.readFloat32(buffer, n);
    expect(out.every((v) => v === 250)).toBe(true);
    runtime.release(buffer);
  });

  it('folds a dispatch of more workgroups than one dimension allows', async () => {
    const max = runtime.limits.maxComputeWorkgroupsPerDimension;
    const n = max + 4097; // one invocation per workgroup
    const buffer = runtime.upload(new Float32Array(n).fill(NaN)); // poisoned: an unwritten element fails
    runtime.dispatch({
      kernel: 'index',
      source: kernelSource(`
struct Params { n: u32 }
@group(0) @binding(0) var<storage, read_write> data: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;
@compute @workgroup_size(1)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = flat_workgroup(wid, nwg);
  if (i >= params.n) { return; }
  data[i] = f32(i);
}`),
      buffers: [buffer],
      uniforms: uniforms().u32(n).bytes(),
      workgroups: n,
    });
    const out = await runtime.readFloat32(buffer, n);
    let wrong = 0;
    for (let i = 0; i < n; i++) if (out[i] !== i) wrong++;
    expect(wrong).toBe(0);
    runtime.release(buffer);
  });
});

describe('waiting for the GPU', () => {
  it("waits for every read, sync and error check through the host's wait", async () => {
    const waited: string[] = [];
    const hostWait = hostRuntimeOptions.waitForGpu ?? plainAwait;
    const counting = await runtimeFromGPU(await hostGPU(), {
      waitForGpu: <T>(work: Promise<T>) => {
        waited.push('wait');
        return hostWait(work);
      },
    });
    try {
      const buffer = counting.upload(new Float32Array([1, 2, 3]));
      addOne(counting, buffer, 3);
      expect(Array.from(await counting.readFloat32(buffer, 3))).toEqual([2, 3, 4]);
      const afterRead = waited.length;
      expect(afterRead).toBeGreaterThanOrEqual(2); // the map, then the batch's error scopes
      addOne(counting, buffer, 3);
      await counting.sync();
      expect(waited.length).toBeGreaterThanOrEqual(afterRead + 2); // the queue, then the error scopes
      expect(Array.from(await counting.readFloat32(buffer, 3))).toEqual([3, 4, 5]);
    } finally {
      counting.dispose();
    }
  });
});

describe('errors', () => {
  it('raises a shader compilation error as an exception naming the kernel', async () => {
    const buffer = runtime.buffer(16);
    runtime.dispatch({
      kernel: 'broken_kernel',
      source: '@group(0) @binding(0) var<storage, read_write> d: array<f32>;\n@compute @workgroup_size(1) fn main() { d[0] = undefined_name; }',
      buffers: [buffer],
      workgroups: 1,
    });
    const failure = runtime.sync();
    await expect(failure).rejects.toThrow(GpuValidationError);
    await expect(failure).rejects.toThrow(/broken_kernel/);
    runtime.release(buffer);
    // The runtime stays usable afterwards.
    const ok = runtime.upload(new Float32Array([41]));
    addOne(runtime, ok, 1);
    expect(Array.from(await runtime.readFloat32(ok, 1))).toEqual([42]);
    runtime.release(ok);
  });

  it('raises a binding that does not fit the shader as an exception naming the kernel', async () => {
    const tiny = runtime.buffer(4);
    runtime.dispatch({
      kernel: 'needs_uniforms',
      source: addKernel,
      buffers: [tiny], // the uniform binding is missing
      workgroups: 1,
    });
    await expect(runtime.sync()).rejects.toThrow(/needs_uniforms/);
    runtime.release(tiny);
  });
});

describe('profiling', () => {
  it('times each kernel with timestamp queries where the adapter has them', async () => {
    if (!runtime.hasTimestamps) {
      expect(() => {
        runtime.profiling = true;
      }).toThrow(/timestamp/);
      return;
    }
    const buffer = runtime.upload(new Float32Array(4096));
    runtime.profiling = true;
    for (let i = 0; i < 3; i++) addOne(runtime, buffer, 4096);
    const times = await runtime.profile();
    runtime.profiling = false;
    expect(times.get('add')?.count).toBe(3);
    expect(times.get('add')!.totalMs).toBeGreaterThanOrEqual(0);
    expect(Array.from((await runtime.readFloat32(buffer, 2)))).toEqual([3, 3]);
    runtime.release(buffer);
  });
});

describe('device loss', () => {
  it('tells the caller the reason and refuses further work', async () => {
    const own = await privateRuntime();
    const lost = new Promise<DeviceLostError>((resolve) => own.onDeviceLost(resolve));
    own.device.destroy();
    const error = await lost;
    expect(error).toBeInstanceOf(DeviceLostError);
    expect(error.reason).toBe('destroyed');
    expect(() => own.buffer(16)).toThrow(DeviceLostError);
  });
});
