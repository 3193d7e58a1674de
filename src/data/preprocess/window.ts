// Intensity windowing: clip HU to a window and rescale it linearly to [0, 1].
export const HU_WINDOW: [number, number] = [-1000, 300];

export function windowToUnit(hu: ArrayLike<number>, window: readonly [number, number] = HU_WINDOW): Float32Array {
  const [lo, hi] = window;
  const scale = 1 / (hi - lo);
  const out = new Float32Array(hu.length);
  for (let i = 0; i < hu.length; i++) {
    const v = hu[i]!;
    out[i] = v <= lo ? 0 : v >= hi ? 1 : (v - lo) * scale;
  }
  return out;
}
