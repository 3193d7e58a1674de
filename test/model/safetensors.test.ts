// The .safetensors reader and writer: round trips, the byte layout other frameworks expect, dtype
// conversion, and a clear error naming the file for each kind of damage.
import { describe, expect, it } from 'vitest';
import { decodeSafetensors, encodeSafetensors, tensorToFloat32 } from '../../src/model/safetensors';

const sample = () =>
  encodeSafetensors(
    [
      ['b.weight', { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 4, 5, 6]) }],
      ['a.index', { shape: [3], data: Int32Array.from([7, -8, 9]) }],
      ['empty', { shape: [0, 4], data: new Float32Array(0) }],
    ],
    { format: 'test', config: '{"x":1}' },
  );

/** A file from a header object and data bytes, as another writer would make it. */
function rawFile(header: unknown, data: Uint8Array, headerText?: string): Uint8Array {
  const json = new TextEncoder().encode(headerText ?? JSON.stringify(header));
  const out = new Uint8Array(8 + json.length + data.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  out.set(data, 8 + json.length);
  return out;
}

describe('safetensors', () => {
  it('round-trips tensors, shapes, dtypes and metadata', () => {
    const { metadata, tensors } = decodeSafetensors(sample(), 'sample.safetensors');
    expect(metadata).toEqual({ format: 'test', config: '{"x":1}' });
    expect([...tensors.keys()]).toEqual(['b.weight', 'a.index', 'empty']);
    const w = tensors.get('b.weight')!;
    expect(w.dtype).toBe('F32');
    expect(w.shape).toEqual([2, 3]);
    expect(Array.from(tensorToFloat32(w, 'b.weight', 's'))).toEqual([1, -2, 3.5, 4, 5, 6]);
    expect(tensors.get('a.index')!.dtype).toBe('I32');
    expect(Array.from(tensorToFloat32(tensors.get('a.index')!, 'a.index', 's'))).toEqual([7, -8, 9]);
    expect(tensors.get('empty')!.shape).toEqual([0, 4]);
  });

  it('writes the layout of the reference implementation: u64 length, space-padded JSON, packed data', () => {
    const bytes = sample();
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(n % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
    expect(text.trimEnd().endsWith('}')).toBe(true);
    const header = JSON.parse(text);
    expect(header.__metadata__.format).toBe('test');
    expect(header['b.weight']).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    expect(header['a.index']).toEqual({ dtype: 'I32', shape: [3], data_offsets: [24, 36] });
    expect(bytes.length).toBe(8 + n + 36);
    expect(new DataView(bytes.buffer).getFloat32(8 + n + 8, true)).toBe(3.5);
  });

  it('converts F16, BF16, F64 and U8 to float32', () => {
    const data = new Uint8Array(2 + 2 + 8 + 2);
    const view = new DataView(data.buffer);
    view.setUint16(0, 0xc100, true); // F16 -2.5
    view.setUint16(2, 0x3fc0, true); // BF16 1.5
    view.setFloat64(4, -0.125, true);
    data.set([0, 255], 12);
    const file = rawFile(
      {
        h: { dtype: 'F16', shape: [1], data_offsets: [0, 2] },
        bf: { dtype: 'BF16', shape: [1], data_offsets: [2, 4] },
        d: { dtype: 'F64', shape: [1], data_offsets: [4, 12] },
        u: { dtype: 'U8', shape: [2], data_offsets: [12, 14] },
      },
      data,
    );
    const { tensors } = decodeSafetensors(file, 'mixed.safetensors');
    const get = (name: string) => Array.from(tensorToFloat32(tensors.get(name)!, name, 'mixed.safetensors'));
    expect(get('h')).toEqual([-2.5]);
    expect(get('bf')).toEqual([1.5]);
    expect(get('d')).toEqual([-0.125]);
    expect(get('u')).toEqual([0, 255]);
  });

  it('names the file and the problem for damaged input', () => {
    const good = sample();
    const bad = (bytes: Uint8Array, pattern: RegExp) => expect(() => decodeSafetensors(bytes, 'model.safetensors')).toThrow(pattern);
    bad(good.subarray(0, 5), /^model\.safetensors: not a safetensors file/);
    bad(good.subarray(0, 20), /^model\.safetensors: truncated: the header/);
    bad(good.subarray(0, good.length - 4), /^model\.safetensors: truncated: tensor "a\.index"/);
    const huge = new Uint8Array(16);
    new DataView(huge.buffer).setBigUint64(0, 2n ** 40n, true);
    bad(huge, /header length .* implausible/);
    bad(rawFile(null, new Uint8Array(0), '{"a": '), /header is not valid JSON/);
    bad(rawFile([1, 2], new Uint8Array(0)), /header must be a JSON object/);
    bad(rawFile({ x: { dtype: 'Q7', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(4)), /tensor "x": unsupported dtype "Q7"/);
    bad(rawFile({ x: { dtype: 'F32', shape: [-1], data_offsets: [0, 4] } }, new Uint8Array(4)), /tensor "x": shape/);
    bad(rawFile({ x: { dtype: 'F32', shape: [2], data_offsets: [0, 4] } }, new Uint8Array(4)), /4 bytes do not hold F32 of shape \[2\]/);
    bad(
      rawFile(
        { x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] }, y: { dtype: 'F32', shape: [1], data_offsets: [2, 6] } },
        new Uint8Array(8),
      ),
      /overlap or gap/,
    );
    bad(rawFile({ x: { dtype: 'F32', shape: [1], data_offsets: [0, 4] } }, new Uint8Array(8)), /4 bytes after the last tensor/);
    bad(rawFile({ __metadata__: { a: 1 } }, new Uint8Array(0)), /__metadata__ "a" must be a string/);
  });

  it('refuses values that do not fill the shape and metadata that is not a string', () => {
    expect(() => encodeSafetensors([['x', { shape: [2, 2], data: new Float32Array(3) }]])).toThrow(/3 values for shape \[2, 2\]/);
    expect(() => encodeSafetensors([], { n: 3 as unknown as string })).toThrow(/metadata "n" must be a string/);
  });
});
