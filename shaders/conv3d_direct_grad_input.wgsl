// Gradient of the direct 3-D convolution with respect to its input, as a gather (no atomics): one
// invocation per input element dx[n, id, ih, iw, ci] sums dy[n, od, oh, ow, co] * w[co, kd, kh, kw, ci]
// over every output position and kernel tap with od*s - p + kd = id (likewise for h, w).
// The same kernel is the forward pass of a transposed convolution (dy = its input, dx = its output).
// Params as in conv3d_direct.wgsl; `total` counts input elements here.
override WORKGROUP: u32 = 64;
struct Params {
  total: u32,
  batch: u32,
  x_dims: vec4<u32>,
  y_dims: vec4<u32>,
  kernel: vec4<u32>,
  stride: vec4<u32>,
  pad: vec4<i32>,
}
@group(0) @binding(0) var<storage, read> dy: array<f32>;
@group(0) @binding(1) var<storage, read> w: array<f32>;
@group(0) @binding(2) var<storage, read_write> dx: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

// The output position that reaches input position `i` through tap `k` along one axis, or -1 if none:
// o*s - p + k = i must hold with o an integer in [0, extent).
fn source_of(i: i32, k: u32, s: u32, p: i32, extent: u32) -> i32 {
  let t = i + p - i32(k);
  if (t < 0 || t % i32(s) != 0) { return -1; }
  let o = t / i32(s);
  return select(-1, o, o < i32(extent));
}

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let index = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  if (index >= params.total) { return; }
  let xd = params.x_dims;
  let yd = params.y_dims;
  let k = params.kernel;
  let cin = xd.w;
  let cout = yd.w;
  let ci = index % cin;
  var rest = index / cin;
  let iw = i32(rest % xd.z); rest = rest / xd.z;
  let ih = i32(rest % xd.y); rest = rest / xd.y;
  let id = i32(rest % xd.x);
  let n = rest / xd.x;

  var acc = 0.0;
  for (var kd = 0u; kd < k.x; kd++) {
    let od = source_of(id, kd, params.stride.x, params.pad.x, yd.x);
    if (od < 0) { continue; }
    for (var kh = 0u; kh < k.y; kh++) {
      let oh = source_of(ih, kh, params.stride.y, params.pad.y, yd.y);
      if (oh < 0) { continue; }
      for (var kw = 0u; kw < k.z; kw++) {
        let ow = source_of(iw, kw, params.stride.z, params.pad.z, yd.z);
        if (ow < 0) { continue; }
        let dy_base = (((n * yd.x + u32(od)) * yd.y + u32(oh)) * yd.z + u32(ow)) * cout;
        let tap = ((kd * k.y + kh) * k.z + kw) * cin + ci;
        let w_stride = k.x * k.y * k.z * cin; // from one output channel's filter to the next
        for (var co = 0u; co < cout; co++) {
          acc += dy[dy_base + co] * w[co * w_stride + tap];
        }
      }
    }
  }
  dx[index] = acc;
}
