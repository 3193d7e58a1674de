// For each row of x [rows, cols], the index of the nearest row of bank [bank_rows, cols] in squared
// Euclidean distance; on a tie the lowest index. Rows whose distance is NaN never win; when none wins, 0.
//
// Each invocation searches for ROWS consecutive query rows at once, held in registers as vec4s (zero past
// cols), so that every bank value it reads serves ROWS queries. The workgroup loads the bank a tile of
// rows at a time into shared memory, with each tile row's squared norm: the distance is ranked as
// |b|^2 - 2 q.b, which leaves |q|^2 out (the same for every bank row) and one multiply-add per value.
// With APART, each query row and bank row also has a position (3 values), and only bank rows farther
// than params.min_distance from the query's position take part (a scan's own tissue elsewhere, never
// the query's neighbourhood); when none is that far the index is -1.
// Lines `//@NAME` are replaced by code that src/kernels/nearest-row.ts writes out for ROWS and VEC4S
// (= ceil(cols / 4)) variable by variable: SwiftShader's subzero JIT neither unrolls loops nor keeps
// indexed arrays in registers.
override WORKGROUP: u32 = 64;
//@CONSTS
const TILE_VEC4S: u32 = 512u;

struct Params { rows: u32, cols: u32, bank_rows: u32, tile_rows: u32, min_distance2: f32 }
@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> bank: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<i32>;
#if APART
@group(0) @binding(3) var<storage, read> x_position: array<f32>;
@group(0) @binding(4) var<storage, read> bank_position: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;
#else
@group(0) @binding(3) var<uniform> params: Params;
#endif

var<workgroup> tile: array<vec4<f32>, TILE_VEC4S>;
var<workgroup> tile_norm: array<f32, TILE_VEC4S>;
#if APART
// 6 KB beside the 10 KB above: the 16 KB of workgroup memory every WebGPU device has.
var<workgroup> tile_position: array<f32, 3u * TILE_VEC4S>;
#endif

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
  let first = (flat_workgroup(wid, nwg) * WORKGROUP + lid) * ROWS;
  // Every invocation takes part in the tile loads and barriers; rows past the last are searched for the
  // last row and not written.
  // Per query row r: q<r>_<v> = 2 x[row, 4v..4v+3], best<r> the lowest |b|^2 - 2 q.b so far, index<r> its row.
//@QUERIES
  for (var start = 0u; start < params.bank_rows; start += params.tile_rows) {
    let count = min(params.tile_rows, params.bank_rows - start);
    workgroupBarrier();
    for (var k = lid; k < count * VEC4S; k += WORKGROUP) {
      tile[k] = bank4((start + k / VEC4S) * params.cols, 4u * (k % VEC4S));
    }
    workgroupBarrier();
    for (var j = lid; j < count; j += WORKGROUP) {
      var n = 0.0;
      for (var v = 0u; v < VEC4S; v++) { n += dot(tile[j * VEC4S + v], tile[j * VEC4S + v]); }
      tile_norm[j] = n;
#if APART
      for (var a = 0u; a < 3u; a++) { tile_position[3u * j + a] = bank_position[3u * (start + j) + a]; }
#endif
    }
    workgroupBarrier();
    for (var j = 0u; j < count; j++) {
      let at = j * VEC4S;
      let candidate = i32(start + j);
#if APART
      let at_position = vec3<f32>(tile_position[3u * j], tile_position[3u * j + 1u], tile_position[3u * j + 2u]);
#endif
//@SEARCH
    }
  }
//@STORE
}
