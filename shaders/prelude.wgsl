// Prepended to every kernel by src/gpu/shader.ts.

// Dispatches of more than maxComputeWorkgroupsPerDimension workgroups are folded by the runtime into a
// 2-D or 3-D grid; this recovers the linear workgroup index. Kernels must bounds-check the result,
// since the folded grid may hold a few more workgroups than asked for.
fn flat_workgroup(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + nwg.x * (wid.y + nwg.y * wid.z);
}
