// Gradient-norm clipping without a readback, in three kernels:
//   PARTIAL: sums of squares of grad[start .. start + n), one per workgroup, into partials[first + workgroup];
//   FINISH:  the total norm sqrt(sum of partials) and the clip factor min(1, max_norm / (norm + 1e-6))
//            (torch.nn.utils.clip_grad_norm_), each into a one-element buffer;
//   SCALE:   g <- g * factor, in place.
const WORKGROUP: u32 = 256u;
struct Params { n: u32, first: u32, workgroups: u32, max_norm: f32, start: u32 }
#if PARTIAL
@group(0) @binding(0) var<storage, read> grad: array<f32>;
@group(0) @binding(1) var<storage, read_write> partials: array<f32>;
#elif FINISH
@group(0) @binding(0) var<storage, read> partials: array<f32>;
@group(0) @binding(1) var<storage, read_write> norm: array<f32>;
@group(0) @binding(2) var<storage, read_write> factor: array<f32>;
#else
@group(0) @binding(0) var<storage, read_write> grad: array<f32>;
@group(0) @binding(1) var<storage, read> factor: array<f32>;
#endif
#if SCALE
@group(0) @binding(2) var<uniform> params: Params;
#elif FINISH
@group(0) @binding(3) var<uniform> params: Params;
#else
@group(0) @binding(2) var<uniform> params: Params;
#endif

var<workgroup> shared_sum: array<f32, WORKGROUP>;

// Tree sum of every invocation's `value`; the total is in shared_sum[0] afterwards.
fn workgroup_sum(lid: u32, value: f32) {
  shared_sum[lid] = value;
  workgroupBarrier();
  for (var width = WORKGROUP / 2u; width > 0u; width = width / 2u) {
    if (lid < width) { shared_sum[lid] += shared_sum[lid + width]; }
    workgroupBarrier();
  }
}

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
#if PARTIAL
  let group = flat_workgroup(wid, nwg);
  var total = 0.0;
  // Workgroups beyond params.workgroups (a folded grid's spare ones) add nothing and write nothing.
  if (group < params.workgroups) {
    for (var i = group * WORKGROUP + lid; i < params.n; i += params.workgroups * WORKGROUP) {
      let g = grad[params.start + i];
      total += g * g;
    }
  }
  workgroup_sum(lid, total);
  if (lid == 0u && group < params.workgroups) { partials[params.first + group] = shared_sum[0]; }
#elif FINISH
  var total = 0.0;
  for (var i = lid; i < params.n; i += WORKGROUP) { total += partials[i]; }
  workgroup_sum(lid, total);
  if (lid == 0u) {
    let total_norm = sqrt(shared_sum[0]);
    norm[0] = total_norm;
    factor[0] = min(1.0, params.max_norm / (total_norm + 1e-6));
  }
#else
  let i = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  if (i >= params.n) { return; }
  grad[i] = grad[i] * factor[0];
#endif
}
