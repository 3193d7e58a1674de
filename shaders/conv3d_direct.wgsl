// Direct 3-D convolution, the reference implementation: one invocation per output element
// y[n, od, oh, ow, co] = bias[co] + sum over (kd, kh, kw, ci) of x[n, od*s - p + kd, ..., ci] * w[co, kd, kh, kw, ci],
// with zero padding. Activations are channels-last [N, D, H, W, C], weights [Cout, kD, kH, kW, Cin].
// The conv3d_direct_grad_* kernels share this Params struct (the launcher packs it once).
override WORKGROUP: u32 = 64;
struct Params {
  total: u32,          // output elements (threads that do work)
  batch: u32,
  x_dims: vec4<u32>,   // D, H, W, C of the input
  y_dims: vec4<u32>,   // D, H, W, C of the output
  kernel: vec4<u32>,   // kD, kH, kW, unused
  stride: vec4<u32>,   // sd, sh, sw, unused
  pad: vec4<i32>,      // pd, ph, pw, unused
}
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
#if BIAS
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;
#else
@group(0) @binding(2) var<storage, read_write> y: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
#endif

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let index = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  if (index >= params.total) { return; }
  let xd = params.x_dims;
  let yd = params.y_dims;
  let k = params.kernel;
  let cin = xd.w;
  // Unravel the output index: channels fastest.
  let co = index % yd.w;
  var rest = index / yd.w;
  let ow = i32(rest % yd.z); rest = rest / yd.z;
  let oh = i32(rest % yd.y); rest = rest / yd.y;
  let od = i32(rest % yd.x);
  let n = rest / yd.x;
  let d0 = od * i32(params.stride.x) - params.pad.x;
  let h0 = oh * i32(params.stride.y) - params.pad.y;
  let w0 = ow * i32(params.stride.z) - params.pad.z;

  var acc = 0.0;
  for (var kd = 0u; kd < k.x; kd++) {
    let id = d0 + i32(kd);
    if (id < 0 || id >= i32(xd.x)) { continue; }
    for (var kh = 0u; kh < k.y; kh++) {
      let ih = h0 + i32(kh);
      if (ih < 0 || ih >= i32(xd.y)) { continue; }
      for (var kw = 0u; kw < k.z; kw++) {
        let iw = w0 + i32(kw);
        if (iw < 0 || iw >= i32(xd.z)) { continue; }
        let x_base = (((n * xd.x + u32(id)) * xd.y + u32(ih)) * xd.z + u32(iw)) * cin;
        let w_base = (((co * k.x + kd) * k.y + kh) * k.z + kw) * cin;
        for (var ci = 0u; ci < cin; ci++) {
          acc += x[x_base + ci] * w[w_base + ci];
        }
      }
    }
  }
#if BIAS
  acc += bias[co];
#endif
  y[index] = acc;
}
