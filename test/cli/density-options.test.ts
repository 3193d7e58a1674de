// The density options that `train` and the quality benchmark share: one reading, one set of refusals.
import { describe, expect, it } from 'vitest';
import type { ParsedArgs } from '../../src/cli/args';
import { bankSizeOption, checkBankSizeFits, densityChoice } from '../../src/cli/density-options';

const args = (options: ParsedArgs['options']): ParsedArgs => ({ options, positionals: [], help: false });

describe('density options', () => {
  it('implies no condition for a knn density and refuses another', () => {
    expect(densityChoice('knn', undefined)).toEqual({ kind: 'knn', condition: 'none' });
    expect(densityChoice('flow', 'sincos')).toEqual({ kind: 'flow', condition: 'sincos' });
    expect(() => densityChoice('knn', 'masked')).toThrow(/a knn density is unconditioned/);
    expect(() => densityChoice('gauss', undefined)).toThrow(/--density must be one of gaussian, flow, knn/);
  });

  it('reads --bank-size within its range and only for a knn density', () => {
    expect(bankSizeOption(args({}))).toEqual({});
    expect(bankSizeOption(args({ 'bank-size': '16384' }))).toEqual({ bankSize: 16384 });
    expect(() => bankSizeOption(args({ 'bank-size': '0' }))).toThrow(/--bank-size must be from 1 to 1048576, got "0"/);
    expect(() => checkBankSizeFits(args({ 'bank-size': '16384' }), 'knn')).not.toThrow();
    expect(() => checkBankSizeFits(args({}), 'flow')).not.toThrow();
    expect(() => checkBankSizeFits(args({ 'bank-size': '16384' }), 'gaussian')).toThrow(
      /--bank-size is for a knn density \(--density knn\); this run trains a gaussian density/,
    );
  });
});
