import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../errors/index.js';
import { ManualClock, systemClock } from './clock.js';

describe('clocks', () => {
  it('ManualClock moves only when told', () => {
    const c = new ManualClock('2026-01-01T00:00:00Z');
    expect(c.now()).toBe(Date.parse('2026-01-01T00:00:00Z'));
    c.advance(1500);
    expect(c.now()).toBe(Date.parse('2026-01-01T00:00:01.500Z'));
    c.set(new Date(0));
    expect(c.now()).toBe(0);
  });

  it('rejects bad input with typed errors', () => {
    const c = new ManualClock();
    expect(() => c.advance(-1)).toThrow(expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }));
    expect(() => c.advance(Number.NaN)).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }),
    );
    expect(() => new ManualClock('not a date')).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_ARGUMENT }),
    );
    expect(c.now()).toBe(0);
  });

  it('systemClock reads the wall clock', () => {
    const before = Date.now();
    const t = systemClock.now();
    expect(t).toBeGreaterThanOrEqual(before);
  });
});
