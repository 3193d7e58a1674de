// The public surface of dist/engine.js, pinned: dropping an export (a renamed file, a lost `export *`)
// fails here. Adding one fails too, so that the list in engine-exports.json is updated on purpose:
// every name in it is a promise to the programs that embed the engine.
import { describe, expect, it } from 'vitest';
import { engineBundle } from '../helpers/host';
import pinned from './engine-exports.json';

describe('the engine bundle exports', () => {
  it('are exactly the pinned names, the kernel launchers as kernels.NAME', async () => {
    const engine = await engineBundle();
    const names = [...Object.keys(engine), ...Object.keys(engine.kernels).map((name) => `kernels.${name}`)].sort();
    expect(names).toEqual(pinned);
  });

  it('give the graph op a shared name, and the launcher beneath it to kernels', async () => {
    const engine = await engineBundle();
    // matmul, gatherRows, scatterAddRows: an autograd op at the top, the raw launcher in kernels.
    for (const name of ['matmul', 'gatherRows', 'scatterAddRows'] as const) {
      expect(typeof engine[name], name).toBe('function');
      expect(engine.kernels[name], name).not.toBe(engine[name]);
    }
    // Activation: the nn layer (the kernels' Activation is only a type).
    expect(new engine.Activation('relu')).toBeInstanceOf(engine.Module);
  });
});
