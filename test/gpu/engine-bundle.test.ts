// dist/engine.js is what other programs embed: one ES module with no imports. It must run as it is,
// on whatever WebGPU the host gives it (Dawn here, navigator.gpu in Chromium).
import { describe, expect, it } from 'vitest';
import { engineBundle, hostGPU } from '../helpers/host';

describe('the engine bundle', () => {
  it('builds a runtime from the host GPU and round-trips data through a kernel', async () => {
    const engine = await engineBundle();
    const runtime = await engine.runtimeFromGPU(await hostGPU());
    try {
      const n = 999;
      const buffer = runtime.upload(Float32Array.from({ length: n }, (_, i) => i));
      runtime.dispatch({
        kernel: 'double',
        source: engine.kernelSource(`
struct Params { n: u32 }
@group(0) @binding(0) var<storage, read_write> data: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;
@compute @workgroup_size(64)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * 64u + lid;
  if (i < params.n) { data[i] = 2.0 * data[i]; }
}`),
        buffers: [buffer],
        uniforms: engine.uniforms().u32(n).bytes(),
        workgroups: Math.ceil(n / 64),
      });
      const out = await runtime.readFloat32(buffer, n);
      expect(out.every((v, i) => v === 2 * i)).toBe(true);
    } finally {
      runtime.dispose();
    }
  });

  it('measures the FMA ceiling with its bundled shader', async () => {
    const engine = await engineBundle();
    const runtime = await engine.runtimeFromGPU(await hostGPU());
    try {
      const fma = await engine.kernels.measureFma(runtime, 3);
      expect(fma.flops).toBeGreaterThan(0);
      expect(fma.medianMs).toBeGreaterThan(0);
    } finally {
      runtime.dispose();
    }
  });
});
