// Peak arithmetic: each invocation runs eight independent vec4 chains of fused multiply-adds, so the
// hardware always has independent work in flight. 2 FLOPs per fma.
override WORKGROUP: u32 = 256;

struct Params {
  iterations: u32,
  scale: f32,
}

@group(0) @binding(0) var<storage, read_write> sink: array<f32>;
@group(0) @binding(1) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(workgroup_id) wid: vec3<u32>,
        @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let index = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  let b = params.scale;
  let c = 1.0 - params.scale;
  let vb = vec4<f32>(b);
  let vc = vec4<f32>(c);
  var a0 = vec4<f32>(f32(index) * 1e-7, 0.1, 0.2, 0.3);
  var a1 = a0 + 0.01;
  var a2 = a0 + 0.02;
  var a3 = a0 + 0.03;
  var a4 = a0 + 0.04;
  var a5 = a0 + 0.05;
  var a6 = a0 + 0.06;
  var a7 = a0 + 0.07;
  for (var i = 0u; i < params.iterations; i++) {
    a0 = fma(a0, vb, vc);
    a1 = fma(a1, vb, vc);
    a2 = fma(a2, vb, vc);
    a3 = fma(a3, vb, vc);
    a4 = fma(a4, vb, vc);
    a5 = fma(a5, vb, vc);
    a6 = fma(a6, vb, vc);
    a7 = fma(a7, vb, vc);
  }
  let s = (a0 + a1) + (a2 + a3) + (a4 + a5) + (a6 + a7);
  sink[index] = s.x + s.y + s.z + s.w;
}
