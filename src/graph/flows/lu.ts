// float64 CPU linear algebra for initialising the invertible 1x1x1 convolution: a random orthogonal
// matrix and its LU factorisation with partial pivoting. Runs once per layer, on C x C matrices.

/** A random orthogonal C x C matrix (row-major): Gram-Schmidt on the rows of a Gaussian matrix. */
export function randomOrthogonal(normals: Float64Array, c: number): Float64Array {
  const q = Float64Array.from(normals.subarray(0, c * c));
  for (let i = 0; i < c; i++) {
    // Twice over ("twice is enough"): one pass loses orthogonality to rounding for larger C.
    for (let pass = 0; pass < 2; pass++) {
      for (let j = 0; j < i; j++) {
        let dot = 0;
        for (let k = 0; k < c; k++) dot += q[i * c + k]! * q[j * c + k]!;
        for (let k = 0; k < c; k++) q[i * c + k]! -= dot * q[j * c + k]!;
      }
    }
    let norm = 0;
    for (let k = 0; k < c; k++) norm += q[i * c + k]! ** 2;
    norm = Math.sqrt(norm);
    if (!(norm > 1e-12)) throw new Error('randomOrthogonal: the Gaussian draw was singular');
    for (let k = 0; k < c; k++) q[i * c + k]! /= norm;
  }
  return q;
}

export interface PLU {
  /** C x C permutation matrix (row-major). */
  p: Float64Array;
  /** Unit lower-triangular, C x C. */
  l: Float64Array;
  /** Upper-triangular, C x C, diagonal included. */
  u: Float64Array;
}

/** A = P L U with partial pivoting (scipy.linalg.lu's convention). */
export function pluDecompose(a: Float64Array, c: number): PLU {
  const u = Float64Array.from(a);
  const l = new Float64Array(c * c);
  // rowOf[i]: the row of A that ended up as row i of L U.
  const rowOf = Array.from({ length: c }, (_, i) => i);
  for (let k = 0; k < c; k++) {
    let pivot = k;
    for (let i = k + 1; i < c; i++) if (Math.abs(u[i * c + k]!) > Math.abs(u[pivot * c + k]!)) pivot = i;
    if (u[pivot * c + k] === 0) throw new Error('pluDecompose: the matrix is singular');
    if (pivot !== k) {
      for (let j = 0; j < c; j++) {
        [u[k * c + j], u[pivot * c + j]] = [u[pivot * c + j]!, u[k * c + j]!];
        [l[k * c + j], l[pivot * c + j]] = [l[pivot * c + j]!, l[k * c + j]!];
      }
      [rowOf[k], rowOf[pivot]] = [rowOf[pivot]!, rowOf[k]!];
    }
    for (let i = k + 1; i < c; i++) {
      const f = u[i * c + k]! / u[k * c + k]!;
      l[i * c + k] = f;
      for (let j = k; j < c; j++) u[i * c + j]! -= f * u[k * c + j]!;
    }
  }
  for (let i = 0; i < c; i++) l[i * c + i] = 1;
  const p = new Float64Array(c * c);
  rowOf.forEach((r, i) => (p[r * c + i] = 1));
  return { p, l, u };
}
