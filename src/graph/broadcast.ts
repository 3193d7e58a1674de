// NumPy broadcasting: the shape two operands broadcast to, and each operand's strides over it.
import { shapeString, stridesOf } from './tensor';

export function broadcastShapes(...shapes: (readonly number[])[]): number[] {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    let extent = 1;
    for (const shape of shapes) {
      const d = shape[shape.length - rank + i] ?? 1;
      if (d === 1) continue;
      if (extent !== 1 && extent !== d) {
        throw new RangeError(`shapes ${shapes.map(shapeString).join(' and ')} do not broadcast`);
      }
      extent = d;
    }
    out.push(extent);
  }
  return out;
}

/** Strides that read `shape` as if it had `target`'s shape: 0 on broadcast axes. */
export function broadcastStrides(shape: readonly number[], target: readonly number[]): number[] {
  const own = stridesOf(shape);
  const offset = target.length - shape.length;
  return target.map((_, i) => {
    const d = shape[i - offset];
    return d === undefined || d === 1 ? 0 : own[i - offset]!;
  });
}

/** The axes of `from` that must be summed to reduce it back to `to` (which broadcasts to `from`). */
export function reducedAxes(from: readonly number[], to: readonly number[]): number[] {
  const offset = from.length - to.length;
  const axes: number[] = [];
  from.forEach((d, i) => {
    const t = to[i - offset];
    if (t === undefined || (t === 1 && d !== 1)) axes.push(i);
  });
  return axes;
}
