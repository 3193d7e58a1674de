// Register-blocked backward-weight of the 3-D convolution with no workgroup memory and no barriers: the
// tile family for software adapters (see blocked.wgsl for why).
//
// dw[co, k, ci] = sum over batch and output voxels o of dy[n, o, co] * x[n, o*s - p + k, ci].
// One invocation owns one tap and a BO x BI block of (output, input) channels, and sums over one split of
// the (batch, output slice) range, writing partial sums part[split, co, k, ci]; the launcher then sums the
// splits (split_sum.wgsl), which keeps the result deterministic without atomics. For each
// tap it walks only the output voxels whose source lies inside the input, so the loop has no tests.
// `//@NAME` lines are replaced by the unrolled register block (src/kernels/conv3d/codegen.ts) or by the
// parts these kernels share (shaders/conv3d/shared/).
override WORKGROUP: u32 = 64;
//@CONSTS

struct Params {
  total: u32,          // invocations that do work
  i_blocks: u32,       // blocks of BI input channels
  o_blocks: u32,       // blocks of BO output channels
  slices_per_split: u32,
//@WGRAD_GEOMETRY
}
//@WGRAD_BINDINGS
//@CHANNELS_LAST

// Output positions [first, last) whose tap k lands inside the input along one axis: 0 <= o*s - p + k < in.
fn valid_outputs(k: u32, s: u32, p: i32, extent_in: u32, extent_out: u32) -> vec2<i32> {
  let offset = i32(k) - p;
  let si = i32(s);
  let first = select(0, (-offset + si - 1) / si, offset < 0);
  let past = i32(extent_in) - offset;
  let last = select(0, (past + si - 1) / si, past > 0);
  return vec2<i32>(first, min(last, i32(extent_out)));
}

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let index = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  if (index >= params.total) { return; }
  let xd = params.x_dims;
  let yd = params.y_dims;
  let k = params.kernel;
  let s = params.stride;
  let p = params.pad;
  let ci = xd.w;
  let co = yd.w;
  let taps = k.w;

  // Input-channel block fastest: neighbouring lanes read neighbouring channels of one voxel.
  var rest = index;
  let ib = rest % params.i_blocks; rest = rest / params.i_blocks;
  let ob = rest % params.o_blocks; rest = rest / params.o_blocks;
  let tap = rest % taps; rest = rest / taps;
  let split = rest;
  let i0 = ib * BI;
  let o0 = ob * BO;
  let kw = tap % k.z;
  let kh = (tap / k.z) % k.y;
  let kd = tap / (k.z * k.y);
  let rh = valid_outputs(kh, s.y, p.y, xd.y, yd.y);
  let rw = valid_outputs(kw, s.z, p.z, xd.z, yd.z);
  let slices = s.w * yd.x;
  let first_slice = split * params.slices_per_split;
  let last_slice = min(first_slice + params.slices_per_split, slices);
#if VEC4
  let xc = ci / 4u;
  let yc = co / 4u;
  let x_off = i0 / 4u;
  let y_off = o0 / 4u;
#else
  let xc = ci;
  let yc = co;
  let x_off = 0u;
  let y_off = 0u;
#endif

//@DECLARE
  for (var slice = first_slice; slice < last_slice; slice++) {
    let n = slice / yd.x;
    let od = slice % yd.x;
    let id = i32(od * s.x) - p.x + i32(kd);
    if (id < 0 || id >= i32(xd.x)) { continue; }
    for (var oh = rh.x; oh < rh.y; oh++) {
      let ih = u32(oh * i32(s.y) - p.y + i32(kh));
      let x_row = voxel_row(n, u32(id), ih, xd);
      let y_row = voxel_row(n, od, u32(oh), yd);
      for (var ow = rw.x; ow < rw.y; ow++) {
        let iw = u32(ow * i32(s.z) - p.z + i32(kw));
        let xv = (x_row + iw) * xc + x_off;
        let yv = (y_row + u32(ow)) * yc + y_off;
//@INNER
      }
    }
  }
  let part_base = split * co * taps * ci;
//@STORE
}
