// Disposal scopes and the no-grad mode.
//
// tidy(fn) frees every tensor created while fn runs, except the ones fn returns and the ones passed
// to keep(). Parameters are created outside any scope (or kept) and live until disposed by hand.
// Gradients that backward() stores on a leaf's .grad are kept automatically: they belong to the leaf.

/**
 * What a scope holds: a tensor as the scopes see it. Written here rather than imported, so that
 * tensor.ts, which registers every new tensor with the open scope, is the only one of the two files
 * that imports the other.
 */
interface ScopedTensor {
  readonly storage: unknown;
  readonly shape: readonly number[];
  dispose(): void;
}

const scopes: Set<ScopedTensor>[] = [];
let gradDepth = 0;

/** Called by every Tensor constructor. */
export function trackTensor(tensor: ScopedTensor): void {
  scopes[scopes.length - 1]?.add(tensor);
}

/** Takes a tensor out of every open scope, so that no scope's end disposes it. */
export function keep<T extends ScopedTensor>(tensor: T): T {
  for (const scope of scopes) scope.delete(tensor);
  return tensor;
}

function collect(value: unknown, into: Set<ScopedTensor>): void {
  if (!value || typeof value !== 'object') return;
  if (ArrayBuffer.isView(value)) return;
  if ('storage' in value && 'shape' in value) into.add(value as ScopedTensor);
  else if (Array.isArray(value)) for (const v of value) collect(v, into);
  else for (const v of Object.values(value)) collect(v, into);
}

function closeScope(scope: Set<ScopedTensor>, result: unknown): void {
  const survivors = new Set<ScopedTensor>();
  collect(result, survivors);
  scopes.pop();
  for (const tensor of scope) {
    if (survivors.has(tensor)) trackTensor(tensor); // hand it to the enclosing scope
    else tensor.dispose();
  }
}

export function tidy<T>(fn: () => T): T {
  const scope = new Set<ScopedTensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = fn();
  } catch (error) {
    closeScope(scope, undefined);
    throw error;
  }
  closeScope(scope, result);
  return result;
}

/** tidy() for async work: the scope stays open across awaits, so run one at a time. */
export async function tidyAsync<T>(fn: () => Promise<T>): Promise<T> {
  const scope = new Set<ScopedTensor>();
  scopes.push(scope);
  let result: T;
  try {
    result = await fn();
  } catch (error) {
    closeScope(scope, undefined);
    throw error;
  }
  closeScope(scope, result);
  return result;
}

/** Runs fn without recording operations for backward(). */
export function noGrad<T>(fn: () => T): T {
  gradDepth++;
  try {
    return fn();
  } finally {
    gradDepth--;
  }
}

export function isGradEnabled(): boolean {
  return gradDepth === 0;
}
