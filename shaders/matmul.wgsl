// Batched C[b] = op(A[b]) · op(B[b]), op being an optional transpose, with C contiguous [batch, M, N].
//
// Each workgroup computes one TILE_M x TILE_N tile of one batch entry. (The BLOCKED variant, for software
// adapters, does so without workgroup memory: see the loop below.) The K axis is walked in steps of
// TILE_K: the workgroup stages a TILE_M x TILE_K slab of A and a TILE_K x TILE_N slab of B in workgroup
// memory (zero-padded past the edges), then every invocation accumulates a THREAD x THREAD block of
// outputs from it. An invocation's rows are ty + WG * i and its columns tx + WG * j, so neighbouring
// invocations read neighbouring columns of B's slab and write neighbouring columns of C.
//
// Split-K: when C has too few tiles to occupy the device and K is long, the launcher splits K into
// `splits` runs of k_chunk; grid z then counts (batch, split) pairs, each writing its partial product
// to its own [M, N] slice of a scratch buffer that the launcher sums. With one split, z is the batch.
//
// Transposes and batch broadcasting are strides: element (m, k) of op(A) sits at
// a_base + m * a_row + k * a_col, where a_base comes from the batch coordinate and A's batch strides
// (0 on an axis A is broadcast along).
const WG: u32 = 8u;
const THREAD: u32 = 4u;
const TILE_M: u32 = 32u; // WG * THREAD
const TILE_N: u32 = 32u;
const TILE_K: u32 = 16u;

struct Params {
  m: u32,
  n: u32,
  k: u32,
  batch_rank: u32,
  a_row: u32,
  a_col: u32,
  b_row: u32,
  b_col: u32,
  // (batch, split) pairs are spread over several dispatches when there are more than one grid
  // dimension holds.
  batch_offset: u32,
  splits: u32,
  k_chunk: u32,
  pad0: u32,
  batch_shape: array<vec4<u32>, 2>,
  a_batch_strides: array<vec4<u32>, 2>,
  b_batch_strides: array<vec4<u32>, 2>,
}
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> c: array<f32>;
@group(0) @binding(3) var<uniform> params: Params;

#if BLOCKED
#else
var<workgroup> a_tile: array<f32, 512>; // [TILE_K][TILE_M]
var<workgroup> b_tile: array<f32, 512>; // [TILE_K][TILE_N]
#endif

fn at(v: array<vec4<u32>, 2>, d: u32) -> u32 {
  return v[d / 4u][d % 4u];
}

@compute @workgroup_size(8, 8)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_id) local: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let z = wid.z + params.batch_offset;
  let batch = z / params.splits;
  let k_begin = (z % params.splits) * params.k_chunk;
  let k_end = min(k_begin + params.k_chunk, params.k);
  var rest = batch;
  var a_base = 0u;
  var b_base = 0u;
  for (var d = i32(params.batch_rank) - 1; d >= 0; d--) {
    let extent = at(params.batch_shape, u32(d));
    let coord = rest % extent;
    rest = rest / extent;
    a_base += coord * at(params.a_batch_strides, u32(d));
    b_base += coord * at(params.b_batch_strides, u32(d));
  }

  let row0 = wid.y * TILE_M;
  let col0 = wid.x * TILE_N;
  let tx = local.x;
  let ty = local.y;

  // Accumulators and operands as named vectors rather than indexed arrays: compilers (software ones
  // especially) keep them in registers, where an indexed private array may spill to memory.
  var acc0 = vec4<f32>(0.0);
  var acc1 = vec4<f32>(0.0);
  var acc2 = vec4<f32>(0.0);
  var acc3 = vec4<f32>(0.0);

#if BLOCKED
  // Without workgroup memory or barriers (software adapters run a workgroup with barriers as one
  // coroutine per invocation, which costs far more than the reuse it buys): each invocation reads its
  // four rows of A and four columns of B straight from storage. Rows and columns past the edges read
  // the last valid one (clamped, so no branch), and store_row drops their results.
  var a_at = vec4<u32>(0u);
  var b_at = vec4<u32>(0u);
  for (var i = 0u; i < THREAD; i++) {
    a_at[i] = a_base + min(row0 + ty + WG * i, params.m - 1u) * params.a_row;
    b_at[i] = b_base + min(col0 + tx + WG * i, params.n - 1u) * params.b_col;
  }
  for (var kk = k_begin; kk < k_end; kk++) {
    let ak = kk * params.a_col;
    let bk = kk * params.b_row;
    let a4 = vec4<f32>(a[a_at.x + ak], a[a_at.y + ak], a[a_at.z + ak], a[a_at.w + ak]);
    let b4 = vec4<f32>(b[b_at.x + bk], b[b_at.y + bk], b[b_at.z + bk], b[b_at.w + bk]);
    acc0 = fma(vec4<f32>(a4.x), b4, acc0);
    acc1 = fma(vec4<f32>(a4.y), b4, acc1);
    acc2 = fma(vec4<f32>(a4.z), b4, acc2);
    acc3 = fma(vec4<f32>(a4.w), b4, acc3);
  }
#else
  for (var k0 = k_begin; k0 < k_end; k0 += TILE_K) {
    // 64 invocations stage 512 values of each slab, eight apiece.
    for (var s = 0u; s < 8u; s++) {
      let e = lid + 64u * s;
      // A: consecutive invocations walk k (contiguous in an untransposed A).
      let am = e / TILE_K;
      let ak = e % TILE_K;
      let ga_m = row0 + am;
      let ga_k = k0 + ak;
      var va = 0.0;
      if (ga_m < params.m && ga_k < k_end) { va = a[a_base + ga_m * params.a_row + ga_k * params.a_col]; }
      a_tile[ak * TILE_M + am] = va;
      // B: consecutive invocations walk n (contiguous in an untransposed B).
      let bk = e / TILE_N;
      let bn = e % TILE_N;
      let gb_k = k0 + bk;
      let gb_n = col0 + bn;
      var vb = 0.0;
      if (gb_k < k_end && gb_n < params.n) { vb = b[b_base + gb_k * params.b_row + gb_n * params.b_col]; }
      b_tile[bk * TILE_N + bn] = vb;
    }
    workgroupBarrier();
    for (var kk = 0u; kk < TILE_K; kk++) {
      let ar = kk * TILE_M + ty;
      let a4 = vec4<f32>(a_tile[ar], a_tile[ar + WG], a_tile[ar + 2u * WG], a_tile[ar + 3u * WG]);
      let br = kk * TILE_N + tx;
      let b4 = vec4<f32>(b_tile[br], b_tile[br + WG], b_tile[br + 2u * WG], b_tile[br + 3u * WG]);
      acc0 = fma(vec4<f32>(a4.x), b4, acc0);
      acc1 = fma(vec4<f32>(a4.y), b4, acc1);
      acc2 = fma(vec4<f32>(a4.z), b4, acc2);
      acc3 = fma(vec4<f32>(a4.w), b4, acc3);
    }
    workgroupBarrier();
  }

#endif

  let c_base = z * params.m * params.n;
  store_row(c_base, row0 + ty, col0 + tx, acc0);
  store_row(c_base, row0 + ty + WG, col0 + tx, acc1);
  store_row(c_base, row0 + ty + 2u * WG, col0 + tx, acc2);
  store_row(c_base, row0 + ty + 3u * WG, col0 + tx, acc3);
}

// Writes an invocation's four outputs of one row (columns col, col + WG, ...) that fall inside C.
fn store_row(base: u32, row: u32, col: u32, v: vec4<f32>) {
  if (row >= params.m) { return; }
  let at = base + row * params.n;
  for (var j = 0u; j < THREAD; j++) {
    if (col + WG * j < params.n) { c[at + col + WG * j] = v[j]; }
  }
}
