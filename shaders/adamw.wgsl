// One AdamW step over a range of flat parameter, gradient and moment arrays, in place (PyTorch's
// torch.optim.AdamW, amsgrad off). The optimiser keeps every parameter of a model in one arena, so
// one dispatch updates a whole run of parameters that share a step count:
//   g <- g * factor[0]                               SCALED only: gradient-norm clipping's factor
//   p <- p * (1 - lr * weight_decay)                 decoupled weight decay
//   m <- beta1 * m + (1 - beta1) * g
//   v <- beta2 * v + (1 - beta2) * g^2
//   p <- p - step_size * m / (sqrt(v) / sqrt_bias2 + eps)
// with step_size = lr / (1 - beta1^t) and sqrt_bias2 = sqrt(1 - beta2^t), computed on the CPU in float64.
override WORKGROUP: u32 = 64;
struct Params {
  first: u32,
  n: u32,
  beta1: f32,
  beta2: f32,
  eps: f32,
  decay: f32,
  step_size: f32,
  sqrt_bias2: f32,
}
@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> m: array<f32>;
@group(0) @binding(3) var<storage, read_write> v: array<f32>;
#if SCALED
@group(0) @binding(4) var<storage, read> factor: array<f32>;
@group(0) @binding(5) var<uniform> params: Params;
#else
@group(0) @binding(4) var<uniform> params: Params;
#endif

@compute @workgroup_size(WORKGROUP)
fn main(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>,
        @builtin(local_invocation_index) lid: u32) {
  let k = flat_workgroup(wid, nwg) * WORKGROUP + lid;
  if (k >= params.n) { return; }
  let i = params.first + k;
#if SCALED
  let g = grad[i] * factor[0];
#else
  let g = grad[i];
#endif
  let m_next = params.beta1 * m[i] + (1.0 - params.beta1) * g;
  let v_next = params.beta2 * v[i] + (1.0 - params.beta2) * g * g;
  m[i] = m_next;
  v[i] = v_next;
  let denom = sqrt(v_next) / params.sqrt_bias2 + params.eps;
  param[i] = param[i] * params.decay - params.step_size * m_next / denom;
}
