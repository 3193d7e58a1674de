// Layout ops (permute, transpose, slice, concat, pad) against plain index-by-index references, with
// finite-difference gradients. Values are only moved, so results must be bit-exact.
import { beforeAll, describe, expect, it, vi } from 'vitest';
import * as g from '../../src/graph';
import type { Runtime } from '../../src/gpu/runtime';
import { gradcheck } from '../helpers/gradcheck';
import { expectClose, randomArray, stridesOf, unravel } from '../helpers/reference';
import { testRuntime } from '../helpers/runtime';

let rt: Runtime;
beforeAll(async () => {
  rt = await testRuntime();
});

/** Random values already rounded to f32, so a copy must reproduce them exactly. */
const values = (n: number, seed: number) => Float64Array.from(Float32Array.from(randomArray(n, seed)));
const size = (s: readonly number[]) => s.reduce((p, d) => p * d, 1);
const offsetOf = (coords: number[], shape: readonly number[]) => coords.reduce((o, c, i) => o + c * stridesOf(shape)[i]!, 0);

function permuteRef(x: Float64Array, shape: number[], axes: number[]): Float64Array {
  const outShape = axes.map((a) => shape[a]!);
  return Float64Array.from({ length: x.length }, (_, i) => {
    const oc = unravel(i, outShape);
    const ic = new Array<number>(shape.length);
    axes.forEach((a, d) => (ic[a] = oc[d]!));
    return x[offsetOf(ic, shape)]!;
  });
}

function sliceRef(x: Float64Array, shape: number[], starts: number[], ends: number[]): Float64Array {
  const outShape = shape.map((_, i) => ends[i]! - starts[i]!);
  return Float64Array.from({ length: size(outShape) }, (_, i) => x[offsetOf(unravel(i, outShape).map((c, d) => c + starts[d]!), shape)]!);
}

function padRef(x: Float64Array, shape: number[], padding: [number, number][], value: number): Float64Array {
  const outShape = shape.map((d, i) => d + padding[i]![0] + padding[i]![1]);
  return Float64Array.from({ length: size(outShape) }, (_, i) => {
    const ic = unravel(i, outShape).map((c, d) => c - padding[d]![0]);
    return ic.every((c, d) => c >= 0 && c < shape[d]!) ? x[offsetOf(ic, shape)]! : value;
  });
}

function concatRef(xs: Float64Array[], shapes: number[][], axis: number): Float64Array {
  const outShape = [...shapes[0]!];
  outShape[axis] = shapes.reduce((s, sh) => s + sh[axis]!, 0);
  return Float64Array.from({ length: size(outShape) }, (_, i) => {
    const c = unravel(i, outShape);
    let k = 0;
    while (c[axis]! >= shapes[k]![axis]!) c[axis] -= shapes[k++]![axis]!;
    return xs[k]![offsetOf(c, shapes[k]!)]!;
  });
}

/** Runs an op on f32 inputs and returns the result with its shape. */
async function run(f: (...xs: g.Tensor[]) => g.Tensor, inputs: { data: Float64Array; shape: number[] }[]) {
  return g.tidyAsync(async () => {
    const t = f(...inputs.map((x) => g.fromArray(rt, x.data, x.shape)));
    return { shape: [...t.shape], data: await t.read() };
  });
}

describe('permute and transpose', () => {
  it('match the reference for every permutation of a rank-4 tensor and for rank 7', async () => {
    const shape = [3, 5, 2, 7];
    const x = values(size(shape), 1);
    const perms: number[][] = [];
    const build = (prefix: number[]) => {
      if (prefix.length === 4) perms.push(prefix);
      else for (let a = 0; a < 4; a++) if (!prefix.includes(a)) build([...prefix, a]);
    };
    build([]);
    for (const axes of perms) {
      const out = await run((t) => g.permute(t!, axes), [{ data: x, shape }]);
      expect(out.shape).toEqual(axes.map((a) => shape[a]));
      expectClose(out.data, permuteRef(x, shape, axes), 0, 0, `permute ${axes}`);
    }
    const big = [2, 3, 1, 3, 2, 5, 3];
    const y = values(size(big), 2);
    const axes = [6, 0, 4, 2, 5, 1, 3];
    expectClose((await run((t) => g.permute(t!, axes), [{ data: y, shape: big }])).data, permuteRef(y, big, axes), 0, 0, 'rank 7');
  });

  it('transpose swaps two axes, negative axes count from the end', async () => {
    const shape = [3, 4, 5];
    const x = values(size(shape), 3);
    const out = await run((t) => g.transpose(t!, 0, -1), [{ data: x, shape }]);
    expect(out.shape).toEqual([5, 4, 3]);
    expectClose(out.data, permuteRef(x, shape, [2, 1, 0]), 0, 0);
  });

  it('copies i32 tensors exactly', async () => {
    const values = [0, -1, 2147483647, -2147483648, 5, 6];
    const out = await g.tidyAsync(async () => g.permute(g.fromArray(rt, values, [2, 3], { dtype: 'i32' }), [1, 0]).readInt());
    expect([...out]).toEqual([0, -2147483648, -1, 5, 2147483647, 6]);
  });

  it('rejects what is not a permutation', () => {
    g.tidy(() => {
      expect(() => g.permute(g.zeros(rt, [2, 3]), [0, 0])).toThrow(/not a permutation/);
      expect(() => g.transpose(g.zeros(rt, [2, 3]), 0, 2)).toThrow(/out of range/);
    });
  });

  it('permute has the finite-difference gradient', async () => {
    await gradcheck(rt, (x) => g.permute(x!, [2, 0, 1]), [{ data: randomArray(24, 4), shape: [2, 3, 4] }]);
  });
});

describe('slice', () => {
  it('matches the reference on edges, interiors, empty ranges and negative bounds', async () => {
    const shape = [5, 7, 3];
    const x = values(size(shape), 5);
    const cases: [number[], number[], number[], number[]][] = [
      // given starts, given ends, resolved starts, resolved ends
      [[1, 2, 0], [4, 7, 3], [1, 2, 0], [4, 7, 3]],
      [[0, 0, 2], [5, 1, 3], [0, 0, 2], [5, 1, 3]],
      [[-2, -5], [5, -1], [3, 2, 0], [5, 6, 3]],
      [[2], [2], [2, 0, 0], [2, 7, 3]],
    ];
    for (const [starts, ends, s, e] of cases) {
      const out = await run((t) => g.slice(t!, starts, ends), [{ data: x, shape }]);
      expect(out.shape).toEqual(shape.map((_, i) => e[i]! - s[i]!));
      expectClose(out.data, sliceRef(x, shape, s, e), 0, 0, `slice ${starts} ${ends}`);
    }
  });

  it('rejects ranges outside the tensor', () => {
    g.tidy(() => {
      expect(() => g.slice(g.zeros(rt, [4, 3]), [0, 2], [4, 4])).toThrow(/axis 1 is outside \[4, 3\]/);
      expect(() => g.slice(g.zeros(rt, [4, 3]), [3], [2])).toThrow(/outside/);
    });
  });

  it('has the finite-difference gradient', async () => {
    await gradcheck(rt, (x) => g.slice(x!, [1, 0, 1], [3, 2, 4]), [{ data: randomArray(30, 6), shape: [3, 2, 5] }]);
  });
});

describe('concat', () => {
  it('matches the reference on every axis', async () => {
    const shapes = [[3, 2, 5], [3, 4, 5], [3, 1, 5]];
    for (let axis = 0; axis < 3; axis++) {
      const ss = shapes.map((s) => s.map((d, i) => (i === axis ? d : [3, 2, 5][i]!)));
      const xs = ss.map((s, i) => values(size(s), 10 + i));
      const out = await run((...ts) => g.concat(ts, axis), xs.map((data, i) => ({ data, shape: ss[i]! })));
      expectClose(out.data, concatRef(xs, ss, axis), 0, 0, `concat on axis ${axis}`);
    }
  });

  it('accepts an empty part and a negative axis, rejects mismatched shapes', async () => {
    const a = values(6, 20);
    const b = values(9, 21);
    const out = await run((x, y, z) => g.concat([x!, y!, z!], -1), [
      { data: a, shape: [3, 2] },
      { data: new Float64Array(0), shape: [3, 0] },
      { data: b, shape: [3, 3] },
    ]);
    expect(out.shape).toEqual([3, 5]);
    expectClose(out.data, concatRef([a, b], [[3, 2], [3, 3]], 1), 0, 0);
    g.tidy(() => {
      expect(() => g.concat([g.zeros(rt, [2, 3]), g.zeros(rt, [3, 3])], 1)).toThrow(/\[3, 3\] does not match \[2, 3\]/);
    });
  });

  it('has the finite-difference gradient for each part', async () => {
    await gradcheck(rt, (x, y) => g.concat([x!, y!, x!], 1), [
      { data: randomArray(6, 22), shape: [2, 3] },
      { data: randomArray(4, 23), shape: [2, 2] },
    ]);
  });
});

describe('copies four words at a time where both views allow it', () => {
  /** Runs `op` and returns its result with the strided-copy kernels it dispatched. */
  async function copiesOf(op: (...t: g.Tensor[]) => g.Tensor, inputs: { data: Float64Array; shape: number[] }[]) {
    const dispatch = vi.spyOn(rt, 'dispatch');
    try {
      const out = await run(op, inputs);
      return { ...out, kernels: dispatch.mock.calls.map(([d]) => d.kernel).filter((k) => k.startsWith('strided_copy')) };
    } finally {
      dispatch.mockRestore();
    }
  }

  it('concat along channels of 4k channels each, and not when a part starts off the 4-word grid', async () => {
    const a = values(3 * 5 * 4, 50);
    const b = values(3 * 5 * 8, 51);
    const c = values(3 * 5 * 2, 52);
    const aligned = await copiesOf((x, y) => g.concat([x!, y!], -1), [
      { data: a, shape: [3, 5, 4] },
      { data: b, shape: [3, 5, 8] },
    ]);
    expectClose(aligned.data, concatRef([a, b], [[3, 5, 4], [3, 5, 8]], 2), 0, 0, 'aligned');
    expect(aligned.kernels).toEqual(['strided_copy (vec4)', 'strided_copy (vec4)']);
    // After 2 channels the next part starts at word 2 of each row: word by word, still exact.
    const shifted = await copiesOf((x, y) => g.concat([x!, y!], -1), [
      { data: c, shape: [3, 5, 2] },
      { data: b, shape: [3, 5, 8] },
    ]);
    expectClose(shifted.data, concatRef([c, b], [[3, 5, 2], [3, 5, 8]], 2), 0, 0, 'shifted');
    expect(shifted.kernels).toEqual(['strided_copy', 'strided_copy']);
  });

  it('slices: aligned channel ranges in vec4s, others word by word, all exact', async () => {
    const shape = [3, 5, 12];
    const x = values(size(shape), 53);
    const cases: [number[], number[], string][] = [
      [[0, 1, 4], [3, 4, 12], 'strided_copy (vec4)'],
      [[1, 0, 0], [3, 5, 12], 'strided_copy (vec4)'],
      [[0, 0, 2], [3, 5, 6], 'strided_copy'],
      [[0, 0, 0], [3, 5, 6], 'strided_copy'],
    ];
    for (const [s, e, kernel] of cases) {
      const out = await copiesOf((t) => g.slice(t!, s, e), [{ data: x, shape }]);
      expectClose(out.data, sliceRef(x, shape, s, e), 0, 0, `slice ${s} ${e}`);
      expect(out.kernels).toEqual([kernel]);
    }
  });

  it('moves i32 words exactly in vec4s too', async () => {
    const ints = Int32Array.from({ length: 2 * 8 }, (_, i) => (i * 2654435761) | 0);
    const got = await g.tidyAsync(async () => g.slice(g.fromArray(rt, ints, [2, 8], { dtype: 'i32' }), [0, 4], [2, 8]).readInt());
    expect(Array.from(got)).toEqual([...ints.slice(4, 8), ...ints.slice(12, 16)]);
  });
});

describe('pad', () => {
  it('matches the reference with asymmetric padding and a fill value', async () => {
    const shape = [2, 3, 5];
    const x = values(size(shape), 30);
    const padding: [number, number][] = [[1, 0], [0, 2], [3, 1]];
    const out = await run((t) => g.pad(t!, padding, -2.5), [{ data: x, shape }]);
    expect(out.shape).toEqual([3, 5, 9]);
    expectClose(out.data, padRef(x, shape, padding, -2.5), 0, 0);
  });

  it('rejects negative padding and a wrong number of pairs', () => {
    g.tidy(() => {
      expect(() => g.pad(g.zeros(rt, [2, 3]), [[0, 0]])).toThrow(/1 \[before, after\] pairs for the 2 axes/);
      expect(() => g.pad(g.zeros(rt, [2, 3]), [[0, 0], [-1, 0]])).toThrow(/non-negative/);
    });
  });

  it('has the finite-difference gradient', async () => {
    await gradcheck(rt, (x) => g.pad(x!, [[1, 2], [0, 1]], 0.5), [{ data: randomArray(12, 31), shape: [3, 4] }]);
  });
});
