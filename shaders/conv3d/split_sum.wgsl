// Sums the split-K partial results of a backward-weight kernel: out[i] = sum over s of part[s * count + i].
// Splits are summed in order, so the result does not depend on scheduling.
override WORKGROUP: u32 = 64;

struct Params {
  count: u32,  // elements of one result
  splits: u32,
}
@group(0) @binding(0) var<storage, read> part: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> params: Params;

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  if (i >= params.count) { return; }
  var total = 0.0;
  for (var s = 0u; s < params.splits; s++) {
    total += part[s * params.count + i];
  }
  out[i] = total;
}
