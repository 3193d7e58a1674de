// Writes a large synthetic CT (int16 HU, NIfTI-1, gzip) for the memory and time measurements of
// `screener predict` on big scans (bench/RESULTS.md, "Large scans"). Not a phantom for training: a
// torso-like elliptic cylinder of fat and soft tissue, two lungs, a spine and a few bright and dark
// spots, with Gaussian-like noise, so that body crop, resampling and CLAHE do their full work.
// The file is written slice by slice through a streaming gzip, so the generator itself stays small.
//
//   node bench/large-scan.mjs OUT.nii.gz [W H D] [spacing-mm-in-plane spacing-mm-between-slices]
//   node bench/large-scan.mjs /tmp/big.nii.gz 512 512 400 0.8 1.0
import { createWriteStream } from 'node:fs';
import { createGzip } from 'node:zlib';

const [out, w = '512', h = '512', d = '400', inPlane = '0.8', between = '1.0'] = process.argv.slice(2);
if (!out) {
  console.error('usage: node bench/large-scan.mjs OUT.nii.gz [W H D] [in-plane-mm slice-mm]');
  process.exit(2);
}
const [W, H, D] = [w, h, d].map(Number);
const [sx, sz] = [inPlane, between].map(Number);

const header = new DataView(new ArrayBuffer(352));
header.setInt32(0, 348, true);
[3, W, H, D, 1, 1, 1, 1].forEach((n, i) => header.setInt16(40 + i * 2, n, true));
header.setInt16(70, 4, true); // int16
header.setInt16(72, 16, true);
[1, sx, sx, sz, 1, 1, 1, 1].forEach((v, i) => header.setFloat32(76 + i * 4, v, true));
header.setFloat32(108, 352, true);
header.setFloat32(112, 1, true);
header.setUint8(123, 2 | 8); // mm, s
header.setInt16(254, 1, true); // sform_code
[[sx, 0, 0, 0], [0, sx, 0, 0], [0, 0, sz, 0]].forEach((row, r) => row.forEach((v, c) => header.setFloat32(280 + r * 16 + c * 4, v, true)));
[0x6e, 0x2b, 0x31, 0].forEach((b, i) => header.setUint8(344 + i, b));

// A fixed-seed xorshift: the same arguments always give the same file.
let state = 0x9e3779b9;
function uniform() {
  state ^= state << 13;
  state ^= state >>> 17;
  state ^= state << 5;
  return (state >>> 0) / 4294967296;
}

const gzip = createGzip({ level: 6 });
const file = createWriteStream(out);
gzip.pipe(file);
const write = (bytes) => (gzip.write(bytes) ? Promise.resolve() : new Promise((r) => gzip.once('drain', r)));
await write(new Uint8Array(header.buffer));

const cx = (W - 1) / 2;
const cy = (H - 1) / 2;
const slice = new Int16Array(W * H);
for (let k = 0; k < D; k++) {
  const z = k / (D - 1); // 0 .. 1 along the body
  const rx = W * (0.36 + 0.04 * Math.sin(z * Math.PI)); // body half-widths in voxels
  const ry = H * (0.27 + 0.03 * Math.sin(z * Math.PI));
  const lungs = z > 0.45 && z < 0.9;
  for (let j = 0; j < H; j++) {
    for (let i = 0; i < W; i++) {
      const u = (i - cx) / rx;
      const v = (j - cy) / ry;
      const r2 = u * u + v * v;
      let hu = -1000;
      if (r2 < 1) {
        hu = r2 > 0.8 ? -100 : 40; // a fat rim around soft tissue
        if (lungs && ((u + 0.45) ** 2 / 0.09 + v * v / 0.36 < 1 || (u - 0.45) ** 2 / 0.09 + v * v / 0.36 < 1)) hu = -850;
        if (u * u / 0.01 + (v - 0.6) ** 2 / 0.01 < 1) hu = 700; // spine
        if ((u - 0.2) ** 2 + (v + 0.2) ** 2 < 0.004 && z > 0.2 && z < 0.3) hu = 110; // a bright spot
        if ((u + 0.1) ** 2 + (v - 0.1) ** 2 < 0.006 && z > 0.6 && z < 0.7) hu = -20; // a dark spot
      }
      const noise = (uniform() + uniform() + uniform() - 1.5) * 40;
      slice[j * W + i] = Math.max(-1024, Math.min(3071, Math.round(hu + noise)));
    }
  }
  await write(new Uint8Array(slice.buffer).slice());
}
gzip.end();
await new Promise((resolve, reject) => file.on('finish', resolve).on('error', reject));
console.log(`${out}: ${W}x${H}x${D} int16, ${sx} x ${sx} x ${sz} mm`);
