// Packs a kernel's uniform struct. Fields are written in declaration order with WGSL's alignment rules
// for the types kernels use here: 4-byte scalars, and vec4 (16-byte aligned). The struct's size is
// rounded up to 16 bytes, as uniform buffer bindings require.

export class Uniforms {
  private readonly view: DataView;
  private offset = 0;

  constructor(private readonly buffer = new ArrayBuffer(256)) {
    this.view = new DataView(buffer);
  }

  u32(...values: number[]): this {
    for (const v of values) {
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new RangeError(`uniform u32 out of range: ${v}`);
      this.view.setUint32(this.take(4, 4), v, true);
    }
    return this;
  }

  i32(...values: number[]): this {
    for (const v of values) {
      if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new RangeError(`uniform i32 out of range: ${v}`);
      this.view.setInt32(this.take(4, 4), v, true);
    }
    return this;
  }

  f32(...values: number[]): this {
    for (const v of values) this.view.setFloat32(this.take(4, 4), v, true);
    return this;
  }

  /** A vec4<u32>; fewer than four values are padded with zeros. */
  vec4u(...values: number[]): this {
    this.align(16);
    const padded = [...values, 0, 0, 0, 0].slice(0, 4);
    return this.u32(...padded);
  }

  vec4i(...values: number[]): this {
    this.align(16);
    return this.i32(...[...values, 0, 0, 0, 0].slice(0, 4));
  }

  vec4f(...values: number[]): this {
    this.align(16);
    return this.f32(...[...values, 0, 0, 0, 0].slice(0, 4));
  }

  /** The packed bytes, padded to a multiple of 16. */
  bytes(): Uint8Array {
    return new Uint8Array(this.buffer, 0, Math.max(16, Math.ceil(this.offset / 16) * 16));
  }

  private align(to: number): void {
    this.offset = Math.ceil(this.offset / to) * to;
  }

  private take(size: number, alignment: number): number {
    this.align(alignment);
    const at = this.offset;
    if (at + size > this.buffer.byteLength) throw new RangeError('uniform struct larger than 256 bytes');
    this.offset += size;
    return at;
  }
}

export const uniforms = (): Uniforms => new Uniforms();
