import { describe, expect, it } from 'vitest';
import { settledBefore } from '../src/settled-change.js';

describe('settledBefore', () => {
  it('takes a change as settled a step before it was seen: 100 ms for fine times, 3 s for whole seconds', () => {
    const seen = 1_800_000_000_000;
    expect(settledBefore({ mtimeMs: seen - 150.5, ctimeMs: seen - 150.5 }, seen)).toBe(true);
    expect(settledBefore({ mtimeMs: seen - 150.5, ctimeMs: seen - 50.5 }, seen)).toBe(false);
    // Whole seconds: a file system that keeps them can hide a later change of the same second.
    expect(settledBefore({ mtimeMs: seen - 1000, ctimeMs: seen - 1000 }, seen)).toBe(false);
    expect(settledBefore({ mtimeMs: seen - 4000, ctimeMs: seen - 4000 }, seen)).toBe(true);
  });
});
