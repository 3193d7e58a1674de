// Per-kernel GPU time from timestamp queries. While profiling, every dispatch runs in its own compute
// pass whose begin and end timestamps land in a query set; each flush resolves the set into a buffer
// that is read back when the caller asks for the profile.
import { BufferUsage, MapMode } from './usage';
import type { GpuWait } from './wait';

export type KernelTimes = Map<string, { count: number; totalMs: number }>;

const CAPACITY = 1024; // passes per batch; a fuller batch is flushed early

export class Profiler {
  enabled = false;
  private readonly querySet: GPUQuerySet;
  private names: string[] = [];
  private inFlight: { names: string[]; staging: GPUBuffer }[] = [];
  private readonly resolveBuffer: GPUBuffer;
  private times: KernelTimes = new Map();

  constructor(
    private readonly device: GPUDevice,
    private readonly waitForGpu: GpuWait,
  ) {
    this.querySet = device.createQuerySet({ type: 'timestamp', count: CAPACITY * 2, label: 'kernel timestamps' });
    this.resolveBuffer = device.createBuffer({
      size: CAPACITY * 2 * 8,
      usage: BufferUsage.QUERY_RESOLVE | BufferUsage.COPY_SRC,
      label: 'timestamp resolve',
    });
  }

  setEnabled(on: boolean): void {
    this.enabled = on;
  }

  get full(): boolean {
    return this.names.length >= CAPACITY;
  }

  /** Timestamp slots for the next pass, or undefined when profiling is off. */
  nextWrites(kernel: string): GPUComputePassTimestampWrites | undefined {
    if (!this.enabled) return undefined;
    const slot = this.names.length;
    this.names.push(kernel);
    return { querySet: this.querySet, beginningOfPassWriteIndex: 2 * slot, endOfPassWriteIndex: 2 * slot + 1 };
  }

  resolve(encoder: GPUCommandEncoder): void {
    if (this.names.length === 0) return;
    const bytes = this.names.length * 16;
    encoder.resolveQuerySet(this.querySet, 0, this.names.length * 2, this.resolveBuffer, 0);
    const staging = this.device.createBuffer({ size: bytes, usage: BufferUsage.MAP_READ | BufferUsage.COPY_DST, label: 'timestamps' });
    encoder.copyBufferToBuffer(this.resolveBuffer, 0, staging, 0, bytes);
    this.inFlight.push({ names: this.names, staging });
  }

  afterSubmit(): void {
    this.names = [];
  }

  async collect(): Promise<KernelTimes> {
    for (const { names, staging } of this.inFlight) {
      await this.waitForGpu(staging.mapAsync(MapMode.READ));
      const stamps = new BigUint64Array(staging.getMappedRange());
      names.forEach((name, i) => {
        const ms = Number(stamps[2 * i + 1]! - stamps[2 * i]!) / 1e6;
        const entry = this.times.get(name) ?? { count: 0, totalMs: 0 };
        entry.count++;
        entry.totalMs += Math.max(0, ms);
        this.times.set(name, entry);
      });
      staging.destroy();
    }
    this.inFlight = [];
    const out = this.times;
    this.times = new Map();
    return out;
  }
}
