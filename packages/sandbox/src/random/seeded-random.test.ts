import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SeededRandom } from './seeded-random.js';

const draw = (r: SeededRandom, n: number) => Array.from({ length: n }, () => r.nextUint32());

describe('SeededRandom', () => {
  it('replays the same sequence for the same seed and differs for another seed', () => {
    expect(draw(new SeededRandom(42), 20)).toEqual(draw(new SeededRandom(42), 20));
    expect(draw(new SeededRandom('42'), 20)).not.toEqual(draw(new SeededRandom(42), 20));
    expect(draw(new SeededRandom(43), 20)).not.toEqual(draw(new SeededRandom(42), 20));
  });

  it('keeps forks independent of draws made elsewhere', () => {
    const a = new SeededRandom(7);
    const b = new SeededRandom(7);
    draw(b, 100);
    expect(a.fork('acp').hex(16)).toBe(b.fork('acp').hex(16));
    expect(a.fork('acp').hex(16)).not.toBe(a.fork('ap2').hex(16));
    expect(a.fork('x').fork('y').label).toBe('x/y');
  });

  it('draws integers inside [min, max] (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 2 ** 31 }),
        fc.integer({ min: -1000, max: 1000 }),
        fc.nat(5000),
        (seed, min, span) => {
          const r = new SeededRandom(seed);
          for (let i = 0; i < 20; i++) {
            const x = r.int(min, min + span);
            expect(Number.isInteger(x)).toBe(true);
            expect(x).toBeGreaterThanOrEqual(min);
            expect(x).toBeLessThanOrEqual(min + span);
          }
        },
      ),
    );
  });

  it('keeps next() in [0, 1) and honours chance(0) and chance(1)', () => {
    const r = new SeededRandom(1);
    for (let i = 0; i < 1000; i++) {
      const x = r.next();
      expect(x >= 0 && x < 1).toBe(true);
      expect(r.chance(0)).toBe(false);
      expect(r.chance(1)).toBe(true);
    }
  });

  it('draws chance(p) near p over many draws', () => {
    const r = new SeededRandom(99);
    let hits = 0;
    for (let i = 0; i < 10_000; i++) if (r.chance(0.3)) hits++;
    expect(hits).toBeGreaterThan(2_800);
    expect(hits).toBeLessThan(3_200);
  });

  it('makes ids of the requested shape', () => {
    expect(new SeededRandom(3).id('tx')).toMatch(/^tx_[0-9a-f]{20}$/);
    expect(new SeededRandom(3).bytes(5)).toHaveLength(5);
  });

  it('rejects bad arguments with typed errors', () => {
    expect(() => new SeededRandom(-1)).toThrow(
      expect.objectContaining({ code: 'ERR_BURSAR_INVALID_ARGUMENT' }),
    );
    expect(() => new SeededRandom(1.5)).toThrow(
      expect.objectContaining({ code: 'ERR_BURSAR_INVALID_ARGUMENT' }),
    );
    const r = new SeededRandom(1);
    expect(() => r.int(5, 4)).toThrow(expect.objectContaining({ code: 'ERR_BURSAR_INVALID_ARGUMENT' }));
    expect(() => r.chance(1.5)).toThrow(expect.objectContaining({ code: 'ERR_BURSAR_INVALID_ARGUMENT' }));
    expect(() => r.pick([])).toThrow(expect.objectContaining({ code: 'ERR_BURSAR_INVALID_ARGUMENT' }));
  });
});
