// For each row of x [rows, cols], the index of the nearest row of bank [bank_rows, cols] in squared
// Euclidean distance; on a tie the lowest index. One invocation per query row, its row held in vec4
// registers (zero-padded past cols); the workgroup loads the bank a tile of rows at a time into
// shared memory, so each bank value is read from storage once per workgroup, not once per query.
// VEC4S = ceil(cols / 4) is a pipeline constant so that the distance loop has a fixed length.
// Rows whose distance is NaN never win; when none wins, 0.
override WORKGROUP: u32 = 64;
override VEC4S: u32 = 4;
const MAX_VEC4S: u32 = 16u;
const TILE_VEC4S: u32 = 512u;

struct Params { rows: u32, cols: u32, bank_rows: u32, tile_rows: u32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> bank: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<i32>;
@group(0) @binding(3) var<uniform> params: Params;

var<workgroup> tile: array<vec4<f32>, TILE_VEC4S>;

// Four values of a row from `start` on, zero past the row's end.
fn x4(base: u32, start: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) { if (start + e < params.cols) { v[e] = x[base + start + e]; } }
  return v;
}

fn bank4(base: u32, start: u32) -> vec4<f32> {
  var v = vec4<f32>(0.0);
  for (var e = 0u; e < 4u; e++) { if (start + e < params.cols) { v[e] = bank[base + start + e]; } }
  return v;
}

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let i = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  // Every invocation takes part in the tile loads and barriers; those past the last row compute for
  // the last row and write nothing.
  let row = min(i, params.rows - 1u) * params.cols;
  var q: array<vec4<f32>, MAX_VEC4S>;
  for (var v = 0u; v < VEC4S; v++) { q[v] = x4(row, 4u * v); }
  var best = 3.40282e38f;
  var best_index = 0i;
  for (var start = 0u; start < params.bank_rows; start += params.tile_rows) {
    let count = min(params.tile_rows, params.bank_rows - start);
    workgroupBarrier();
    for (var k = lid; k < count * VEC4S; k += WORKGROUP) {
      tile[k] = bank4((start + k / VEC4S) * params.cols, 4u * (k % VEC4S));
    }
    workgroupBarrier();
    for (var j = 0u; j < count; j++) {
      var s = 0.0;
      for (var v = 0u; v < VEC4S; v++) {
        let d = q[v] - tile[j * VEC4S + v];
        s += dot(d, d);
      }
      if (s < best) {
        best = s;
        best_index = i32(start + j);
      }
    }
  }
  if (i < params.rows) { out[i] = best_index; }
}
