// The runtime every kernel launcher goes through: one device, a buffer pool, a pipeline cache, batched
// submission (many dispatches in one command encoder, submitted on flush), readback, per-kernel
// timestamps, validation errors turned into exceptions that name the kernel, and device loss.
//
// Errors in WebGPU are asynchronous: a bad shader or a bad binding is only known after an error scope
// is popped. Dispatch stays synchronous; each batch's error scope is checked at the next await point
// (sync(), read(), profile()), which throws with the names of the kernels the batch held.
import type { AdapterReport, ReportedLimits } from './adapter';
import { adapterLimits } from './adapter';
import { DeviceLostError, GpuOutOfMemoryError, GpuValidationError } from './errors';
import { checkGrid, foldWorkgroups, type Grid } from './grid';
import { BufferPool, type PoolStats } from './pool';
import { Profiler, type KernelTimes } from './profiler';
import { BufferUsage, MapMode } from './usage';
import { plainAwait, type GpuWait } from './wait';

export interface BufferBinding {
  buffer: GPUBuffer;
  offset?: number;
  size?: number;
}

export interface Dispatch {
  /** Names the kernel in errors and profiles. */
  kernel: string;
  /** Complete WGSL text (see shader.ts: kernelSource). Identical text and constants share a pipeline. */
  source: string;
  entryPoint?: string;
  /** Values for the shader's `override` declarations. */
  constants?: Record<string, number>;
  /** Storage buffers at @binding(0..n-1) of group 0, in order. */
  buffers: (GPUBuffer | BufferBinding)[];
  /** Packed uniform struct at @binding(n), after the storage buffers. */
  uniforms?: Uint8Array;
  /** A workgroup count (folded into a grid when it exceeds the per-dimension limit) or an explicit grid. */
  workgroups: number | Grid;
}

export interface PipelineStats {
  pipelines: number;
  hits: number;
  misses: number;
}

export interface RuntimeOptions {
  /** Bytes of idle pooled buffers kept for reuse (default 512 MiB). */
  maxIdleBytes?: number;
  /** How to wait for the GPU (default: a plain await). */
  waitForGpu?: GpuWait;
}

interface PendingCheck {
  kernels: string[];
  validation: Promise<GPUError | null>;
  memory?: Promise<GPUError | null>;
}

const UNIFORM_CHUNK = 64 * 1024;

export class Runtime {
  readonly limits: ReportedLimits;
  readonly pool: BufferPool;
  readonly hasTimestamps: boolean;

  private readonly pipelines = new Map<string, GPUComputePipeline>();
  private readonly pipelineStats: PipelineStats = { pipelines: 0, hits: 0, misses: 0 };
  private batchIndex = 0;
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private batchKernels: string[] = [];
  private batchBuffers = new Set<GPUBuffer>();
  private uniformChunks: { buffer: GPUBuffer; data: Uint8Array<ArrayBuffer>; used: number }[] = [];
  private freeUniformChunks: GPUBuffer[] = [];
  private pending: PendingCheck[] = [];
  private uncaptured: GPUError[] = [];
  private readonly stagingIdle = new Map<number, GPUBuffer[]>();
  private lostInfo: GPUDeviceLostInfo | null = null;
  private readonly lostListeners: ((error: DeviceLostError) => void)[] = [];
  private readonly profiler: Profiler | null;
  private destroyed = false;
  private readonly waitForGpu: GpuWait;

  constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterReport,
    options: RuntimeOptions = {},
  ) {
    this.waitForGpu = options.waitForGpu ?? plainAwait;
    this.limits = adapterLimits(device as unknown as GPUAdapter);
    this.pool = new BufferPool(device, options.maxIdleBytes ?? 512 * 2 ** 20, () => this.batchIndex, this.limits.maxBufferSize);
    this.hasTimestamps = device.features.has('timestamp-query');
    this.profiler = this.hasTimestamps ? new Profiler(device, this.waitForGpu) : null;
    device.lost.then((info) => {
      this.lostInfo = info;
      const error = new DeviceLostError(info.reason ?? 'unknown', info.message);
      for (const listener of this.lostListeners) listener(error);
    });
    device.addEventListener('uncapturederror', (event) => {
      this.uncaptured.push((event as GPUUncapturedErrorEvent).error);
    });
  }

  /** Called once when the device is lost, with the reason ('destroyed' after dispose()). */
  onDeviceLost(listener: (error: DeviceLostError) => void): void {
    this.lostListeners.push(listener);
  }

  /** Turns per-kernel timestamps on or off; while on, each dispatch gets its own compute pass. */
  set profiling(on: boolean) {
    if (on && !this.profiler) throw new Error(`the adapter (${this.adapter.description || this.adapter.vendor}) has no timestamp queries`);
    this.flush();
    this.profiler?.setEnabled(on);
  }

  get profiling(): boolean {
    return this.profiler?.enabled ?? false;
  }

  // ---- buffers -------------------------------------------------------------------------------------

  /**
   * Tests set this so that every buffer handed out is first filled with NaN: an output element that a
   * kernel fails to write then shows up as NaN instead of as a stale value that happens to be right.
   */
  poisonBuffers = false;

  /** A pooled storage buffer of at least `bytes` bytes; give it back with release(). */
  buffer(bytes: number, label?: string): GPUBuffer {
    this.assertUsable();
    const buffer = this.pool.acquire(bytes, { label });
    if (this.poisonBuffers) this.write(buffer, new Float32Array(buffer.size / 4).fill(NaN));
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    this.pool.release(buffer);
  }

  /** A pooled storage buffer holding a copy of `data`. */
  upload(data: ArrayBufferView, label?: string): GPUBuffer {
    this.assertUsable();
    const buffer = this.pool.acquire(data.byteLength, { forWrite: true, label });
    this.write(buffer, data);
    return buffer;
  }

  /** Writes `data` into `buffer` at `offset`, ordered after every dispatch issued so far. */
  write(buffer: GPUBuffer, data: ArrayBufferView, offset = 0): void {
    this.assertUsable();
    // queue.writeBuffer lands before the open batch's commands; flush first if they touch this buffer.
    if (this.batchBuffers.has(buffer)) this.flush();
    const bytes = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
    const aligned = Math.ceil(bytes.byteLength / 4) * 4;
    if (aligned === bytes.byteLength) this.device.queue.writeBuffer(buffer, offset, bytes);
    else {
      const padded = new Uint8Array(aligned);
      padded.set(bytes);
      this.device.queue.writeBuffer(buffer, offset, padded);
    }
  }

  /** Copies `size` bytes between buffers inside the open batch. */
  copy(source: GPUBuffer, sourceOffset: number, target: GPUBuffer, targetOffset: number, size: number): void {
    this.assertUsable();
    const encoder = this.openEncoder();
    this.endPass();
    encoder.copyBufferToBuffer(source, sourceOffset, target, targetOffset, size);
    this.batchKernels.push('copy');
    this.batchBuffers.add(source).add(target);
  }

  /** Reads bytes back: submits the open batch, waits for it, checks its errors. */
  async read(buffer: GPUBuffer, byteOffset = 0, byteLength = buffer.size - byteOffset): Promise<ArrayBuffer> {
    this.assertUsable();
    const size = Math.ceil(byteLength / 4) * 4;
    const staging = this.acquireStaging(size);
    const encoder = this.openEncoder();
    this.endPass();
    encoder.copyBufferToBuffer(buffer, byteOffset, staging, 0, size);
    this.batchKernels.push('readback');
    this.flush();
    try {
      await this.waitForGpu(staging.mapAsync(MapMode.READ, 0, size));
      const out = staging.getMappedRange(0, size).slice(0, byteLength);
      staging.unmap();
      return out;
    } catch (error) {
      await this.checkErrors();
      throw this.lostInfo ? this.lostError() : error;
    } finally {
      this.releaseStaging(staging);
      await this.checkErrors();
    }
  }

  async readFloat32(buffer: GPUBuffer, count?: number, offset = 0): Promise<Float32Array> {
    const bytes = await this.read(buffer, offset * 4, (count ?? buffer.size / 4 - offset) * 4);
    return new Float32Array(bytes);
  }

  // ---- dispatch ------------------------------------------------------------------------------------

  dispatch(d: Dispatch): void {
    this.assertUsable();
    this.openEncoder(); // opens the batch's error scope before any device call below
    const pipeline = this.pipeline(d.kernel, d.source, d.constants, d.entryPoint);
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    const grid = typeof d.workgroups === 'number' ? foldWorkgroups(d.workgroups, max) : checkGrid(d.workgroups, max, d.kernel);
    if (grid[0] * grid[1] * grid[2] === 0) return;

    const entries: GPUBindGroupEntry[] = d.buffers.map((b, binding) => {
      const bound: BufferBinding = 'buffer' in b ? b : { buffer: b };
      this.batchBuffers.add(bound.buffer);
      return { binding, resource: { buffer: bound.buffer, offset: bound.offset ?? 0, size: bound.size } };
    });
    if (d.uniforms) entries.push({ binding: d.buffers.length, resource: this.uniformSlot(d.uniforms) });
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries, label: d.kernel });

    const pass = this.openPass(d.kernel);
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(grid[0], grid[1], grid[2]);
    this.batchKernels.push(d.kernel);
    if (this.profiler?.enabled) {
      this.endPass();
      if (this.profiler.full) this.flush();
    }
  }

  /** Submits the open batch. Errors it raises surface at the next sync(), read() or profile(). */
  flush(): void {
    if (!this.encoder) return;
    this.endPass();
    const encoder = this.encoder;
    this.encoder = null;
    for (const chunk of this.uniformChunks) this.device.queue.writeBuffer(chunk.buffer, 0, chunk.data, 0, chunk.used);
    this.profiler?.resolve(encoder);
    this.device.queue.submit([encoder.finish()]);
    // The scopes opened with the batch (openEncoder) close here: they hold every error of its device
    // calls (bind groups, pipelines), its encoding and its submission.
    const validation = this.device.popErrorScope();
    const memory = this.device.popErrorScope();
    this.pending.push({ kernels: this.batchKernels, validation, memory });
    this.profiler?.afterSubmit();
    this.batchKernels = [];
    this.batchBuffers = new Set();
    this.freeUniformChunks.push(...this.uniformChunks.map((c) => c.buffer));
    this.uniformChunks = [];
    this.batchIndex++;
    this.pool.afterSubmit();
  }

  /** Submits the open batch, waits until the GPU has finished it and throws any error it raised. */
  async sync(): Promise<void> {
    this.assertUsable();
    this.flush();
    await this.waitForGpu(this.device.queue.onSubmittedWorkDone());
    await this.checkErrors();
  }

  /** Milliseconds spent in each kernel since the last call (needs `profiling = true`). */
  async profile(): Promise<KernelTimes> {
    if (!this.profiler) throw new Error('the adapter has no timestamp queries');
    await this.sync();
    return this.profiler.collect();
  }

  poolStats(): PoolStats {
    return this.pool.getStats();
  }

  cacheStats(): PipelineStats {
    return { ...this.pipelineStats };
  }

  /** Destroys the device; the runtime cannot be used afterwards. */
  dispose(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.device.destroy();
  }

  // ---- internals -----------------------------------------------------------------------------------

  private pipeline(kernel: string, source: string, constants: Record<string, number> | undefined, entryPoint = 'main'): GPUComputePipeline {
    const key = `${entryPoint}\u0000${JSON.stringify(constants ?? {})}\u0000${source}`;
    const cached = this.pipelines.get(key);
    if (cached) {
      this.pipelineStats.hits++;
      return cached;
    }
    this.pipelineStats.misses++;
    this.device.pushErrorScope('validation');
    const module = this.device.createShaderModule({ code: source, label: kernel });
    const pipeline = this.device.createComputePipeline({
      layout: 'auto',
      compute: { module, entryPoint, constants },
      label: kernel,
    });
    this.pending.push({ kernels: [kernel], validation: this.device.popErrorScope() });
    this.pipelines.set(key, pipeline);
    this.pipelineStats.pipelines = this.pipelines.size;
    return pipeline;
  }

  private uniformSlot(bytes: Uint8Array): GPUBufferBinding {
    const align = this.limits.minUniformBufferOffsetAlignment || 256;
    let chunk = this.uniformChunks[this.uniformChunks.length - 1];
    if (!chunk || chunk.used + bytes.byteLength > UNIFORM_CHUNK) {
      const buffer =
        this.freeUniformChunks.pop() ??
        this.device.createBuffer({ size: UNIFORM_CHUNK, usage: BufferUsage.UNIFORM | BufferUsage.COPY_DST, label: 'uniforms' });
      chunk = { buffer, data: new Uint8Array(UNIFORM_CHUNK), used: 0 };
      this.uniformChunks.push(chunk);
    }
    const offset = chunk.used;
    chunk.data.set(bytes, offset);
    chunk.used = Math.ceil((offset + bytes.byteLength) / align) * align;
    return { buffer: chunk.buffer, offset, size: bytes.byteLength };
  }

  private openEncoder(): GPUCommandEncoder {
    if (!this.encoder) {
      this.device.pushErrorScope('out-of-memory');
      this.device.pushErrorScope('validation');
      this.encoder = this.device.createCommandEncoder({ label: `batch ${this.batchIndex}` });
    }
    return this.encoder;
  }

  private openPass(kernel: string): GPUComputePassEncoder {
    if (this.pass) return this.pass;
    const encoder = this.openEncoder();
    this.pass = encoder.beginComputePass({ label: kernel, timestampWrites: this.profiler?.nextWrites(kernel) });
    return this.pass;
  }

  private endPass(): void {
    this.pass?.end();
    this.pass = null;
  }

  private acquireStaging(size: number): GPUBuffer {
    const bucket = Math.max(256, 2 ** Math.ceil(Math.log2(size)));
    return (
      this.stagingIdle.get(bucket)?.pop() ??
      this.device.createBuffer({ size: bucket, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST, label: 'readback' })
    );
  }

  private releaseStaging(buffer: GPUBuffer): void {
    if (buffer.mapState !== 'unmapped') return; // a failed map: let it go rather than reuse it
    let list = this.stagingIdle.get(buffer.size);
    if (!list) this.stagingIdle.set(buffer.size, (list = []));
    if (list.length < 4) list.push(buffer);
    else buffer.destroy();
  }

  private async checkErrors(): Promise<void> {
    const pending = this.pending;
    this.pending = [];
    for (const check of pending) {
      const [validation, memory] = await this.waitForGpu(Promise.all([check.validation, check.memory]));
      if ((validation || memory) && this.lostInfo) throw this.lostError();
      if (validation) throw new GpuValidationError(unique(check.kernels), validation.message);
      if (memory) throw new GpuOutOfMemoryError(unique(check.kernels), memory.message);
    }
    const stray = this.uncaptured.shift();
    if (stray) throw new GpuValidationError(labelsIn(stray.message), stray.message);
    if (this.lostInfo) throw this.lostError();
  }

  private assertUsable(): void {
    if (this.lostInfo) throw this.lostError();
    if (this.destroyed) throw new Error('the runtime was disposed');
  }

  private lostError(): DeviceLostError {
    return new DeviceLostError(this.lostInfo!.reason ?? 'unknown', this.lostInfo!.message);
  }
}

/** Dawn quotes object labels in its messages; our pipelines and bind groups carry the kernel's name. */
function labelsIn(message: string): string[] {
  const labels = unique([...message.matchAll(/"+([^"]+)"+/g)].map((m) => m[1]!));
  return labels.length ? labels : ['(outside any batch)'];
}

function unique(names: string[]): string[] {
  return [...new Set(names)];
}
