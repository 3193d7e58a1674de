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

/** A strided shape counted in vec4s of four consecutive elements, with each operand's offset (in vec4s). */
export interface Vec4Shape extends StridedShape {
  offsets: number[];
}

/**
 * The same element mapping counted in vec4s of four consecutive elements, or null when some operand
 * does not allow it. It needs the innermost (merged) axis contiguous in every operand with an extent
 * that is a multiple of 4, and every other stride and every offset a multiple of 4, so each vec4 lies
 * whole inside the elements the scalar mapping touches. A kernel then does a quarter of the
 * invocations and of their index arithmetic, which is what elementwise kernels spend their time on in a
 * software adapter. Per-channel operands of 4k channels qualify (stride 0 outside the channel axis); an
 * operand broadcast along the innermost axis does not.
 */
export function inVec4s(merged: StridedShape, offsets: readonly number[] = merged.strides.map(() => 0)): Vec4Shape | null {
  const inner = merged.shape.length - 1;
  const aligned = (v: number) => v % 4 === 0;
  const fits =
    aligned(merged.shape[inner]!) && offsets.every(aligned) && merged.strides.every((s) => s[inner] === 1 && s.slice(0, inner).every(aligned));
  if (!fits) return null;
  return {
    shape: merged.shape.map((e, axis) => (axis === inner ? e / 4 : e)),
    strides: merged.strides.map((s) => s.map((stride, axis) => (axis === inner ? 1 : stride / 4))),
    offsets: offsets.map((o) => o / 4),
  };
}
