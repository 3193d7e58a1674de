// The tile configurations of the implicit-GEMM convolution kernels (implicit-gemm.ts): what a tile
// is, how it is named in logs and tuning tables, and which configurations are valid.

export type ConvDirection = 'forward' | 'backwardData' | 'backwardWeight';

/** The activation fused into the forward kernels' epilogue. */
export type Activation = 'none' | 'relu';

/** A register block of `bv` voxels x `bc` channels per invocation, no workgroup memory. */
export interface BlockedTile {
  family: 'blocked';
  bv: number;
  bc: number;
  /** Backward-weight only: how many partial sums the reduction over voxels is split into (0: automatic). */
  splits?: number;
}

/** A TM x TN workgroup tile over TK-deep slabs, RM x RN per invocation. */
export interface TiledConfig {
  tm: number;
  tn: number;
  tk: number;
  rm: number;
  rn: number;
}

/** A workgroup tile of `tm` voxels x `tn` channels with `tk`-deep slabs in workgroup memory, `rm` x `rn` per invocation. */
export interface TiledTile extends TiledConfig {
  family: 'tiled';
  splits?: number;
}

export type ConvTile = BlockedTile | TiledTile;

export function tileName(t: ConvTile): string {
  const split = t.splits ? ` split ${t.splits}` : '';
  return t.family === 'blocked' ? `blocked ${t.bv}x${t.bc}${split}` : `tiled ${t.tm}x${t.tn}x${t.tk} (${t.rm}x${t.rn})${split}`;
}

export function checkTiled(t: TiledConfig): void {
  const threads = (t.tm / t.rm) * (t.tn / t.rn);
  const ok =
    [t.tm, t.tn, t.tk, t.rm, t.rn].every((v) => Number.isInteger(v) && v >= 1) &&
    t.tm % t.rm === 0 &&
    t.tn % t.rn === 0 &&
    t.tk % 4 === 0 &&
    t.tm % 4 === 0 &&
    t.tn % 4 === 0 &&
    threads <= 256;
  if (!ok) throw new RangeError(`conv3d: bad tiled configuration ${JSON.stringify(t)}`);
}
