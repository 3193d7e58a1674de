// Checks the test harness itself, in both places it runs: that `expect` has vitest's matchers with
// vitest's semantics (the browser gets them through test/browser/vitest-shim.ts), that hooks and
// .each behave, and that hostGPU() yields a WebGPU adapter whose compute results are right.
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { hostGPU } from '../helpers/host';

describe('expect', () => {
  it('compares floats, structures and typed arrays like vitest', () => {
    expect(0.1 + 0.2).toBeCloseTo(0.3, 10);
    expect(() => expect(0.1).toBeCloseTo(0.2, 5)).toThrow(/toBeCloseTo|expected/);
    expect({ a: [1, 2, { b: 'c' }] }).toEqual({ a: [1, 2, { b: 'c' }] });
    expect(new Float32Array([1, 2])).toEqual(new Float32Array([1, 2]));
    expect(new Float32Array([1, 2])).not.toEqual(new Float32Array([1, 3]));
    expect({ a: 1, b: 'x' }).toMatchObject({ b: expect.any(String) });
    expect([3, 1, 2]).toContain(1);
    expect(NaN).toBeNaN();
    expect(() => expect(1).toBe(2)).toThrow('expected 1 to be 2');
  });

  it('checks thrown and rejected errors', async () => {
    expect(() => { throw new RangeError('spacing of zero'); }).toThrow(RangeError);
    expect(() => { throw new Error('truncated NIfTI'); }).toThrow(/truncated/);
    await expect(Promise.reject(new Error('lost device'))).rejects.toThrow('lost device');
    await expect(Promise.resolve(42)).resolves.toBe(42);
    await expect(expect(Promise.resolve(1)).rejects.toThrow()).rejects.toThrow();
  });

  it('supports expect.extend', () => {
    expect.extend({
      toBeEven(received: number) {
        return { pass: received % 2 === 0, message: () => `expected ${received} to be even` };
      },
    });
    (expect(4) as unknown as { toBeEven(): void }).toBeEven();
    expect(() => (expect(3) as unknown as { toBeEven(): void }).toBeEven()).toThrow('expected 3 to be even');
  });
});

describe('hooks and each', () => {
  const log: string[] = [];
  beforeAll(() => { log.push('beforeAll'); });
  beforeEach(() => { log.push('beforeEach'); });
  afterAll(() => {
    expect(log).toEqual(['beforeAll', 'beforeEach', 'test 1', 'beforeEach', 'test 2']);
  });

  it.each([[1], [2]])('runs test %i after the hooks', (n) => {
    log.push(`test ${n}`);
    expect(log[0]).toBe('beforeAll');
  });
});

describe('WebGPU', () => {
  it('finds an adapter and round-trips a compute shader', async () => {
    const gpu = await hostGPU();
    const adapter = await gpu.requestAdapter();
    expect(adapter, 'requestAdapter() returned null').toBeTruthy();
    const device = await adapter!.requestDevice();
    try {
      // 1000 is not a multiple of the workgroup size, so the bounds check is exercised too.
      const n = 1000;
      const input = Float32Array.from({ length: n }, (_, i) => i * 0.5 - 100);
      const module = device.createShaderModule({
        code: /* wgsl */ `
          @group(0) @binding(0) var<storage, read> x: array<f32>;
          @group(0) @binding(1) var<storage, read_write> y: array<f32>;
          @compute @workgroup_size(64)
          fn main(@builtin(global_invocation_id) id: vec3u) {
            if (id.x < arrayLength(&x)) { y[id.x] = x[id.x] * 2.0 + 1.0; }
          }`,
      });
      const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint: 'main' } });
      // Numeric usage flags: in Node the GPUBufferUsage globals may not be installed.
      const STORAGE = 0x80, COPY_SRC = 0x04, COPY_DST = 0x08, MAP_READ = 0x01;
      const x = device.createBuffer({ size: n * 4, usage: STORAGE | COPY_DST });
      const y = device.createBuffer({ size: n * 4, usage: STORAGE | COPY_SRC | COPY_DST });
      const readback = device.createBuffer({ size: n * 4, usage: MAP_READ | COPY_DST });
      device.queue.writeBuffer(x, 0, input);
      device.queue.writeBuffer(y, 0, new Float32Array(n).fill(NaN)); // an unwritten element shows up
      const encoder = device.createCommandEncoder();
      const pass = encoder.beginComputePass();
      pass.setPipeline(pipeline);
      pass.setBindGroup(0, device.createBindGroup({
        layout: pipeline.getBindGroupLayout(0),
        entries: [{ binding: 0, resource: { buffer: x } }, { binding: 1, resource: { buffer: y } }],
      }));
      pass.dispatchWorkgroups(Math.ceil(n / 64));
      pass.end();
      encoder.copyBufferToBuffer(y, 0, readback, 0, n * 4);
      device.queue.submit([encoder.finish()]);
      await readback.mapAsync(0x01 /* GPUMapMode.READ */);
      const out = new Float32Array(readback.getMappedRange().slice(0));
      readback.unmap();
      expect(Array.from(out)).toEqual(Array.from(input, (v) => v * 2 + 1));
    } finally {
      device.destroy();
    }
  });
});
