// Element addressing of a channels-last volume [N, D, H, W, C] whose `dims` are (D, H, W, C), for the
// elementwise volume kernels (pooling, resizing) that put it before their own text.

// Unravels a channels-last index over dims (D, H, W, C): returns (n, d, h, w) and the channel.
fn unravel(index: u32, dims: vec4<u32>) -> array<u32, 5> {
  let c = index % dims.w;
  var rest = index / dims.w;
  let w = rest % dims.z; rest = rest / dims.z;
  let h = rest % dims.y; rest = rest / dims.y;
  let d = rest % dims.x;
  return array<u32, 5>(rest / dims.x, d, h, w, c);
}

// The index of element (n, d, h, w, c).
fn offset(n: u32, d: u32, h: u32, w: u32, c: u32, dims: vec4<u32>) -> u32 {
  return (((n * dims.x + d) * dims.y + h) * dims.z + w) * dims.w + c;
}
