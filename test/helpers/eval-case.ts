// A small evaluation case on a 10 x 12 x 14 grid, shared by the evaluation and overlay tests.
import type { Shape3 } from '../../src/data/geometry/volume';
import type { EvalCase } from '../../src/eval/evaluate';

export const shape: Shape3 = [10, 12, 14];
export const n = 10 * 12 * 14;
export const index = (d: number, h: number, w: number) => (d * 12 + h) * 14 + w;

/** A body (everything but a 1-voxel rim) with two lesions: a 3x3x3 cube of kind 1 and a 2x2x2 cube of kind 7. */
export function syntheticCase(id: string, shift = 0): EvalCase {
  const body = new Uint8Array(n);
  const lesion = new Uint8Array(n);
  const kinds = new Uint8Array(n);
  for (let d = 1; d < 9; d++) for (let h = 1; h < 11; h++) for (let w = 1; w < 13; w++) body[index(d, h, w)] = 1;
  for (let d = 2; d < 5; d++) for (let h = 2; h < 5; h++) for (let w = 2 + shift; w < 5 + shift; w++) (lesion[index(d, h, w)] = 1), (kinds[index(d, h, w)] = 1);
  for (let d = 6; d < 8; d++) for (let h = 7; h < 9; h++) for (let w = 9; w < 11; w++) (lesion[index(d, h, w)] = 1), (kinds[index(d, h, w)] = 7);
  return { id, shape, body, lesion, kinds };
}
