// Channels-last addressing of an [N, D, H, W, C] tensor whose `dims` are (D, H, W, C): the index of
// voxel (n, d, h, w = 0) counted in voxels. A voxel's first element is (voxel_row(..) + w) * C.
// Scalars and a vector only: a helper taking a uniform array by value would copy it on every call,
// which a software adapter does not optimise away.
fn voxel_row(n: u32, d: u32, h: u32, dims: vec4<u32>) -> u32 {
  return ((n * dims.x + d) * dims.y + h) * dims.z;
}
