// Reshape: a view over the same storage, no copy.
import { record } from '../tape';
import { shapeString, sizeOf, Tensor } from '../tensor';

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const resolved = [...shape];
  const free = resolved.indexOf(-1);
  if (free >= 0) {
    const known = resolved.reduce((p, d, i) => (i === free ? p : p * d), 1);
    resolved[free] = known === 0 ? 0 : x.size / known;
  }
  if (sizeOf(resolved) !== x.size) throw new RangeError(`reshape: ${shapeString(x.shape)} has ${x.size} elements, ${shapeString(shape)} does not`);
  const out = new Tensor(x.storage.retain(), resolved, x.dtype);
  return record(out, 'reshape', [x], (g) => [reshape(g, x.shape)]);
}
