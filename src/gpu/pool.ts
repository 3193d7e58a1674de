// A pool of storage buffers bucketed by size, so a training step reuses last step's buffers instead of
// allocating. Sizes round up to one of four steps per power of two (at most 25 % slack) above 256 B.
//
// Reuse is safe in command order: WebGPU executes a queue's commands in submission order, so a buffer
// released by one dispatch and handed to the next is written only after the earlier reads. What is not
// safe is queue.writeBuffer onto a buffer that pending, unsubmitted commands still use (the write would
// land before them); `acquire(bytes, { forWrite: true })` therefore skips buffers released during the
// open batch. Destruction is likewise deferred until the batch that may use the buffer is submitted.

import { BufferUsage } from './usage';

export const STORAGE_USAGE = BufferUsage.STORAGE | BufferUsage.COPY_SRC | BufferUsage.COPY_DST;

export interface PoolStats {
  /** Bytes of every buffer the pool owns: in use plus idle. */
  allocatedBytes: number;
  liveBytes: number;
  idleBytes: number;
  liveBuffers: number;
  idleBuffers: number;
  /** Acquisitions served from the idle lists. */
  hits: number;
  /** Acquisitions that created a buffer. */
  misses: number;
  peakAllocatedBytes: number;
}

interface IdleEntry {
  buffer: GPUBuffer;
  releasedInBatch: number;
}

export function bucketSize(bytes: number): number {
  const min = 256;
  if (bytes <= min) return min;
  const power = 2 ** Math.floor(Math.log2(bytes));
  if (power === bytes) return bytes;
  const step = power / 4;
  return Math.ceil(bytes / step) * step;
}

export class BufferPool {
  private readonly idle = new Map<number, IdleEntry[]>();
  private readonly live = new Set<GPUBuffer>();
  private pendingDestroy: GPUBuffer[] = [];
  private stats: PoolStats = {
    allocatedBytes: 0,
    liveBytes: 0,
    idleBytes: 0,
    liveBuffers: 0,
    idleBuffers: 0,
    hits: 0,
    misses: 0,
    peakAllocatedBytes: 0,
  };

  constructor(
    private readonly device: GPUDevice,
    /** Idle bytes above this are destroyed rather than kept. */
    public maxIdleBytes: number,
    /** Index of the open (unsubmitted) batch; supplied by the runtime. */
    private readonly currentBatch: () => number,
    /** The largest buffer the device allows. */
    private readonly maxBufferSize: number,
  ) {}

  acquire(bytes: number, options: { forWrite?: boolean; label?: string } = {}): GPUBuffer {
    const size = bucketSize(Math.max(4, bytes));
    if (size > this.maxBufferSize) {
      throw new RangeError(`buffer of ${bytes} bytes exceeds the device's maxBufferSize of ${this.maxBufferSize}`);
    }
    const list = this.idle.get(size);
    if (list && list.length > 0) {
      const batch = this.currentBatch();
      const index = options.forWrite ? list.findIndex((e) => e.releasedInBatch < batch) : list.length - 1;
      if (index >= 0) {
        const [entry] = list.splice(index, 1);
        this.stats.hits++;
        this.stats.idleBytes -= size;
        this.stats.idleBuffers--;
        this.markLive(entry!.buffer);
        return entry!.buffer;
      }
    }
    this.stats.misses++;
    const buffer = this.device.createBuffer({ size, usage: STORAGE_USAGE, label: options.label });
    this.stats.allocatedBytes += size;
    this.stats.peakAllocatedBytes = Math.max(this.stats.peakAllocatedBytes, this.stats.allocatedBytes);
    this.markLive(buffer);
    return buffer;
  }

  release(buffer: GPUBuffer): void {
    if (!this.live.delete(buffer)) throw new Error('BufferPool.release: buffer is not live in this pool (released twice?)');
    const size = buffer.size;
    this.stats.liveBytes -= size;
    this.stats.liveBuffers--;
    if (this.stats.idleBytes + size > this.maxIdleBytes) {
      this.stats.allocatedBytes -= size;
      this.pendingDestroy.push(buffer);
      return;
    }
    let list = this.idle.get(size);
    if (!list) this.idle.set(size, (list = []));
    list.push({ buffer, releasedInBatch: this.currentBatch() });
    this.stats.idleBytes += size;
    this.stats.idleBuffers++;
  }

  /** Frees every idle buffer (after the open batch is submitted). */
  trim(): void {
    for (const list of this.idle.values()) for (const entry of list) this.pendingDestroy.push(entry.buffer);
    this.stats.allocatedBytes -= this.stats.idleBytes;
    this.stats.idleBytes = 0;
    this.stats.idleBuffers = 0;
    this.idle.clear();
  }

  /** Called by the runtime after each submit: buffers waiting to be destroyed are no longer referenced by unsubmitted work. */
  afterSubmit(): void {
    for (const buffer of this.pendingDestroy) buffer.destroy();
    this.pendingDestroy = [];
  }

  getStats(): PoolStats {
    return { ...this.stats };
  }

  private markLive(buffer: GPUBuffer): void {
    this.live.add(buffer);
    this.stats.liveBytes += buffer.size;
    this.stats.liveBuffers++;
  }
}
