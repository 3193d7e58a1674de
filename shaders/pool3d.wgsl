// Average pooling over windows of a channels-last volume [N, D, H, W, C], no padding:
// y[n, o, c] = mean of x[n, o*s + k, c] over the kernel window k (o, s, k per axis).
// GRAD is its gradient as a gather (no atomics): dx[n, i, c] = (1/|window|) * sum of dy[n, o, c] over the
// windows o that contain i, that is o*s <= i < o*s + k.
override WORKGROUP: u32 = 64;
struct Params {
  total: u32,          // elements written: outputs (forward) or inputs (GRAD)
  inv_window: f32,     // 1 / (kD * kH * kW)
  x_dims: vec4<u32>,   // D, H, W, C of the input
  y_dims: vec4<u32>,   // D, H, W, C of the output
  kernel: vec4<u32>,   // kD, kH, kW, unused
  stride: vec4<u32>,   // sd, sh, sw, unused
}
@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

// unravel() and offset() come from shared/volume_index.wgsl, put before this text.

// The windows [first, last] along one axis that contain input position i (empty when first > last).
fn windows_of(i: u32, k: u32, s: u32, extent_out: u32) -> vec2<i32> {
  let first = select(0u, (i + 1u - k + s - 1u) / s, i + 1u > k);
  let last = min(i / s, extent_out - 1u);
  return vec2<i32>(i32(first), i32(last));
}

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let index = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  if (index >= params.total) { return; }
  let k = params.kernel;
  let s = params.stride;
  var acc = 0.0;
#if GRAD
  let p = unravel(index, params.x_dims);
  let rd = windows_of(p[1], k.x, s.x, params.y_dims.x);
  let rh = windows_of(p[2], k.y, s.y, params.y_dims.y);
  let rw = windows_of(p[3], k.z, s.z, params.y_dims.z);
  for (var od = rd.x; od <= rd.y; od++) {
    for (var oh = rh.x; oh <= rh.y; oh++) {
      for (var ow = rw.x; ow <= rw.y; ow++) {
        acc += src[offset(p[0], u32(od), u32(oh), u32(ow), p[4], params.y_dims)];
      }
    }
  }
#else
  let p = unravel(index, params.y_dims);
  for (var kd = 0u; kd < k.x; kd++) {
    for (var kh = 0u; kh < k.y; kh++) {
      for (var kw = 0u; kw < k.z; kw++) {
        acc += src[offset(p[0], p[1] * s.x + kd, p[2] * s.y + kh, p[3] * s.z + kw, p[4], params.x_dims)];
      }
    }
  }
#endif
  dst[index] = acc * params.inv_window;
}
