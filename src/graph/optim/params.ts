// What optimisers and clipping accept: a plain list of parameters, or named ones
// (Module.namedParameters()), whose names key the optimiser's state in checkpoints.
import type { Tensor } from '../tensor';

export type NamedParameters = ReadonlyMap<string, Tensor>;
export type ParameterList = readonly Tensor[] | NamedParameters;

/** [name, tensor] pairs; an unnamed list is named by position ("0", "1", ...). */
export function namedEntries(params: ParameterList): [string, Tensor][] {
  if (Array.isArray(params)) return (params as readonly Tensor[]).map((p, i) => [String(i), p]);
  return [...(params as NamedParameters).entries()];
}
