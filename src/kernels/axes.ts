// Shape simplification shared by the elementwise, copy and reduction launchers. Their kernels decompose
// each output index into coordinates, one integer division per axis; on software adapters that index
// arithmetic, not the memory traffic, is what such kernels spend their time on. Merging axes that every
// operand walks contiguously (and dropping extent-1 axes) leaves the same element mapping with fewer
// axes: a same-shape operation becomes rank 1, a per-channel bias over [N, D, H, W, C] rank 2.

/** A shape and, for each operand, its strides over that shape (in elements). */
export interface StridedShape {
  shape: number[];
  strides: number[][];
}

/**
 * The fewest axes that address the same elements: axis i merges into axis i + 1 when every operand's
 * stride along i equals its stride along i + 1 times that axis's extent. Always returns rank >= 1.
 */
export function collapseAxes(shape: readonly number[], strides: readonly (readonly number[])[]): StridedShape {
  const keep = shape.map((extent, axis) => ({ extent, axis })).filter(({ extent }) => extent !== 1);
  const out: StridedShape = { shape: [], strides: strides.map(() => []) };
  // Walk from the innermost axis outwards, extending the current outermost merged axis when possible.
  for (let i = keep.length - 1; i >= 0; i--) {
    const { extent, axis } = keep[i]!;
    const mergeable = out.shape.length > 0 && strides.every((s, op) => s[axis] === out.strides[op]![0]! * out.shape[0]!);
    if (mergeable) {
      out.shape[0] = out.shape[0]! * extent;
    } else {
      out.shape.unshift(extent);
      strides.forEach((s, op) => out.strides[op]!.unshift(s[axis]!));
    }
  }
  if (out.shape.length === 0) {
    out.shape.push(1);
    out.strides.forEach((s) => s.push(0));
  }
  return out;
}
