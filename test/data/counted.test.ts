import { describe, expect, it } from 'vitest';
import { counted } from '../../src/data/counted';

describe('counted', () => {
  it('puts the noun in the singular for one and in the plural otherwise', () => {
    expect(counted(1, 'case')).toBe('1 case');
    expect(counted(0, 'case')).toBe('0 cases');
    expect(counted(2, 'scan')).toBe('2 scans');
  });

  it('takes an irregular plural', () => {
    expect(counted(1, 'body', 'bodies')).toBe('1 body');
    expect(counted(3, 'body', 'bodies')).toBe('3 bodies');
  });
});
