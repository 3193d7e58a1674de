// The anomaly map as a file: float32 anomaly score (the NLL, or its latent energy) per voxel, NIfTI-1
// on the input's grid and affine. One encoder for `screener predict` and the page's download, so both
// give the same bytes. It streams: slabs of slices go in, file bytes come out (through a streaming
// gzip), so that the command line never holds the whole map, its bytes and their gzip at once. The
// bytes go to the compressor in pieces of a fixed size whatever the slabs, so the file depends on the
// map only, not on how it was cut. No Node imports: the page uses it too.
import { Gzip } from 'fflate';
import { type Affine, type Shape3, type Volume, voxelCount } from '../data/geometry/volume';
import { DataError } from '../data/errors';
import { niftiHeaderBytes } from '../data/io/nifti';
import { anomalyOptionsOf, type AnomalyOptions, type AnomalyScore, type DensityKind, type KnnReference, type ScreenerConfig } from './config';

/**
 * The NIfTI header's description of a map: which score its voxels hold, and how much it was smoothed.
 * A knn density's score is a distance, not a likelihood, whatever `score` says.
 */
export function anomalyDescription(score: AnomalyScore = 'nll', smoothMm = 0, density?: DensityKind, reference?: KnnReference): string {
  const smoothing = smoothMm > 0 ? `, smoothed ${smoothMm} mm` : '';
  return `screener anomaly (${anomalyScoreName(score, density, reference)}${smoothing})`;
}

const KNN_SCORE_NAMES: Record<KnnReference, string> = {
  bank: 'knn distance',
  scan: 'knn distance within the scan',
  both: 'knn distance, bank or scan',
};

/** What a map's values are: "NLL", "latent energy", or for a knn density its distance (to the bank, within the scan, or either). */
export function anomalyScoreName(score: AnomalyScore = 'nll', density?: DensityKind, reference: KnnReference = 'bank'): string {
  return density === 'knn' ? KNN_SCORE_NAMES[reference] : score === 'nll' ? 'NLL' : 'latent energy';
}

export const ANOMALY_DESCRIPTION = anomalyDescription('nll');

/** The score the map holds (the NLL when absent), its smoothing in mm and the density that gave it: the header names them. */
export interface AnomalyFileOptions extends AnomalyOptions {
  density?: DensityKind;
  gzip?: boolean;
}

/** What a model's maps hold, for their files' headers. */
export function anomalyFileOptionsOf(config: ScreenerConfig): AnomalyFileOptions {
  return { ...anomalyOptionsOf(config), density: config.density.kind };
}

/** Bytes handed to the compressor at a time. */
const PIECE = 1 << 20;

export class AnomalyFileWriter {
  private readonly gzip: Gzip | null;
  private readonly piece = new Uint8Array(PIECE);
  private filled = 0;
  private voxels = 0;
  private readonly total: number;
  /** The lowest and highest score written. */
  min = Infinity;
  max = -Infinity;

  /**
   * `sink` receives the file's bytes in order (each array is the sink's to keep). Non-finite scores
   * mean a damaged or untrained model; they are refused, naming `source` (the scan they came from).
   */
  constructor(
    shape: Shape3,
    affine: Affine,
    private readonly source: string,
    private readonly sink: (bytes: Uint8Array) => void,
    options: AnomalyFileOptions = {},
  ) {
    this.total = voxelCount(shape);
    // mtime 0: the same map always gives the same bytes.
    this.gzip = options.gzip === false ? null : new Gzip({ level: 6, mtime: 0 }, (chunk) => chunk.length && sink(chunk));
    this.write(niftiHeaderBytes(shape, affine, 'float32', { description: anomalyDescription(options.score, options.smoothMm, options.density, options.reference) }));
  }

  /** The next slices of the map, row-major. */
  push(slab: Float32Array): void {
    if (this.voxels + slab.length > this.total) throw new RangeError(`${this.source}: more anomaly voxels than the map holds`);
    for (let i = 0; i < slab.length; i++) {
      const v = slab[i]!;
      if (!Number.isFinite(v)) throw new DataError(this.source, 'the model gave non-finite scores (a damaged or untrained model?)');
      if (v < this.min) this.min = v;
      if (v > this.max) this.max = v;
    }
    this.voxels += slab.length;
    // float32 little-endian, the byte order of every platform this runs on (x86, ARM).
    this.write(new Uint8Array(slab.buffer, slab.byteOffset, slab.byteLength));
  }

  /** Ends the file; every voxel must have been pushed. */
  finish(): void {
    if (this.voxels !== this.total) throw new RangeError(`${this.source}: ${this.voxels} of ${this.total} anomaly voxels written`);
    const last = this.piece.slice(0, this.filled);
    this.filled = 0;
    if (this.gzip) this.gzip.push(last, true);
    else if (last.length) this.sink(last);
  }

  private write(bytes: Uint8Array): void {
    for (let at = 0; at < bytes.length; ) {
      const n = Math.min(PIECE - this.filled, bytes.length - at);
      this.piece.set(bytes.subarray(at, at + n), this.filled);
      this.filled += n;
      at += n;
      if (this.filled === PIECE) {
        this.filled = 0;
        if (this.gzip) this.gzip.push(this.piece.slice());
        else this.sink(this.piece.slice());
      }
    }
  }
}

/** Encodes a whole anomaly map in memory (gzip unless told otherwise): the page's download. */
export function encodeAnomalyMap(anomaly: Volume<Float32Array>, source: string, options: AnomalyFileOptions = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  const writer = new AnomalyFileWriter(anomaly.shape, anomaly.affine, source, (bytes) => parts.push(bytes), options);
  writer.push(anomaly.data);
  writer.finish();
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}
