// Row gathers and their deterministic scatter-add, for picking embeddings at sampled voxels.
//
// GATHER        out[k, c] = x[indices[k], c]; an index outside [0, rows) gives a row of zeros.
// SCATTER_LINKS for each k: whether k is the first occurrence of its index ("leader"), and the next k
//               with the same index. WGSL has no f32 atomics, so duplicates are summed by following
//               these chains in index order: the result does not depend on scheduling.
// SCATTER_SUM   out[indices[k], c] = sum of values[j, c] over the chain that starts at leader k. The
//               output is zero-filled beforehand; rows no index names stay zero.
// VOXEL_INDEX   the row of voxel (n, d, h, w) in an [N, D, H, W, C] map read as [N*D*H*W, C], or -1
//               when the coordinate lies outside the map.
override WORKGROUP: u32 = 64;

#if GATHER
struct Params { n: u32, rows: u32, cols: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> indices: array<i32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;
#elif SCATTER_LINKS
struct Params { count: u32 }
@group(0) @binding(0) var<storage, read> indices: array<i32>;
// links[2k] = next k with the same index (count when none), links[2k + 1] = 1 for a leader.
@group(0) @binding(1) var<storage, read_write> links: array<u32>;
@group(0) @binding(2) var<uniform> params: Params;
#elif SCATTER_SUM
struct Params { n: u32, rows: u32, cols: u32, count: u32 }
@group(0) @binding(0) var<storage, read> indices: array<i32>;
@group(0) @binding(1) var<storage, read> links: array<u32>;
@group(0) @binding(2) var<storage, read> values: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> params: Params;
#elif VOXEL_INDEX
struct Params { count: u32, n: i32, d: i32, h: i32, w: i32 }
@group(0) @binding(0) var<storage, read> coords: array<i32>;
@group(0) @binding(1) var<storage, read_write> rows: array<i32>;
@group(0) @binding(2) var<uniform> params: Params;
#endif

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WORKGROUP + lid;
#if GATHER
  if (i >= params.n) { return; }
  let k = i / params.cols;
  let c = i % params.cols;
  let r = indices[k];
  var v = 0.0;
  if (r >= 0 && u32(r) < params.rows) { v = x[u32(r) * params.cols + c]; }
  out[i] = v;
#elif SCATTER_LINKS
  if (i >= params.count) { return; }
  let r = indices[i];
  var next = params.count;
  var leader = 1u;
  for (var j = 0u; j < params.count; j++) {
    if (indices[j] != r) { continue; }
    if (j < i) { leader = 0u; }
    if (j > i && next == params.count) { next = j; }
  }
  links[2u * i] = next;
  links[2u * i + 1u] = leader;
#elif SCATTER_SUM
  if (i >= params.n) { return; }
  let k = i / params.cols;
  let c = i % params.cols;
  let r = indices[k];
  if (links[2u * k + 1u] == 0u || r < 0 || u32(r) >= params.rows) { return; }
  var total = 0.0;
  var j = k;
  loop {
    if (j >= params.count) { break; }
    total += values[j * params.cols + c];
    j = links[2u * j];
  }
  out[u32(r) * params.cols + c] = total;
#elif VOXEL_INDEX
  if (i >= params.count) { return; }
  let n = coords[4u * i];
  let d = coords[4u * i + 1u];
  let h = coords[4u * i + 2u];
  let w = coords[4u * i + 3u];
  let inside = n >= 0 && n < params.n && d >= 0 && d < params.d && h >= 0 && h < params.h && w >= 0 && w < params.w;
  rows[i] = select(-1, ((n * params.d + d) * params.h + h) * params.w + w, inside);
#endif
}
