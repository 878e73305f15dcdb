import { describe, expect, it } from 'vitest';
import { listSome } from '../../../cli/credentials-command.js';

describe('listSome (the per-site credentials warning of a province)', () => {
  it('names them all up to the limit', () => {
    expect(listSome(['a'], 3)).toBe('a');
    expect(listSome(['a', 'b', 'c'], 3)).toBe('a, b, c');
  });

  it('names the first ones and counts the rest past it', () => {
    const names = Array.from({ length: 500 }, (_, i) => `p${String(i).padStart(4, '0')}`);
    expect(listSome(names, 10)).toBe('p0000, p0001, p0002, p0003, p0004, p0005, p0006, p0007, p0008, p0009 and 490 more');
  });
});
