// Folding a 1-D count of workgroups into a grid the device accepts. WebGPU caps each dimension at
// maxComputeWorkgroupsPerDimension (65535 by default); a 1-D kernel over 2^24 elements with 64-wide
// workgroups needs 262144. Kernels recover the linear index with flat_workgroup() from the prelude and
// bounds-check it, since x*y*z may exceed the count slightly.

export type Grid = [number, number, number];

export function foldWorkgroups(count: number, maxPerDimension: number): Grid {
  if (!Number.isInteger(count) || count < 0) throw new RangeError(`workgroup count must be a non-negative integer, got ${count}`);
  if (count <= maxPerDimension) return [count, 1, 1];
  const perPlane = maxPerDimension * maxPerDimension;
  const z = Math.ceil(count / perPlane);
  if (z > maxPerDimension) throw new RangeError(`${count} workgroups exceed what a 3-D grid of ${maxPerDimension}^3 can hold`);
  const rest = Math.ceil(count / z);
  const y = Math.ceil(rest / maxPerDimension);
  const x = Math.ceil(rest / y);
  return [x, y, z];
}

export function checkGrid(grid: Grid, maxPerDimension: number, kernel: string): Grid {
  for (const n of grid) {
    if (!Number.isInteger(n) || n < 0 || n > maxPerDimension) {
      throw new RangeError(`kernel "${kernel}": workgroup grid [${grid.join(', ')}] exceeds ${maxPerDimension} per dimension`);
    }
  }
  return grid;
}
