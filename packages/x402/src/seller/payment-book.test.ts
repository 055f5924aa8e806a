import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PaymentBook, type PaymentEntry, type PaymentState } from './payment-book.js';

function entry(id: string, state: PaymentState = 'settled', payloadHash = `h-${id}`): PaymentEntry {
  return {
    paymentId: id,
    payloadHash,
    termsKey: 't',
    state,
    attempt: 1,
    network: 'eip155:84532',
    scheme: 'exact',
    asset: '0xa',
    payTo: '0xb',
    updatedAt: 0,
  };
}

describe('PaymentBook', () => {
  it('finds a payment by id or by its signed payload under another id', () => {
    const book = new PaymentBook({ maxEntries: 10, retentionMs: 1000, activeTtlMs: 1000 });
    const e = entry('pid:a', 'settled', 'hash-1');
    book.touch(e, 0);
    expect(book.find('pid:a', 'other')).toBe(e);
    expect(book.find('sha256:hash-1', 'hash-1')).toBe(e);
    expect(book.find('sha256:x', 'x')).toBeUndefined();
    book.rekey(e, 'hash-2');
    expect(book.find('sha256:hash-1', 'hash-1')).toBeUndefined();
    book.touch(e, 1);
    expect(book.find('sha256:hash-2', 'hash-2')).toBe(e);
  });

  it('is bounded in size: finished payments beyond maxEntries are forgotten oldest first', () => {
    const book = new PaymentBook({ maxEntries: 100, retentionMs: 1e12, activeTtlMs: 1e12 });
    for (let i = 0; i < 10_000; i++) book.touch(entry(`p${i}`), i);
    expect(book.size).toBeLessThanOrEqual(101);
    expect(book.get('p0')).toBeUndefined();
    expect(book.get('p9999')).toBeDefined();
  });

  it('is bounded in time, and a touch moves a payment to the back', () => {
    const book = new PaymentBook({ maxEntries: 1_000, retentionMs: 100, activeTtlMs: 50 });
    const a = entry('a');
    const b = entry('b', 'held');
    book.touch(a, 0);
    book.touch(b, 0);
    book.touch(a, 90); // a refreshed: b is now first
    book.touch(entry('c'), 60); // b (active, 60 ms old) expires: its hold expired in the engine too
    expect(book.get('b')).toBeUndefined();
    expect(book.get('a')).toBe(a);
    book.touch(entry('d'), 195); // a is 105 ms old
    expect(book.get('a')).toBeUndefined();
  });

  it('never evicts unfinished payments for size, and keeps pending reconciliations apart', () => {
    const book = new PaymentBook({ maxEntries: 2, retentionMs: 1e12, activeTtlMs: 1e12 });
    const active = entry('active', 'settling');
    book.touch(active, 0);
    for (let i = 0; i < 10; i++) book.touch(entry(`f${i}`), i);
    expect(book.get('active')).toBe(active);
    const pending = entry('pending', 'pending_reconciliation');
    book.touch(pending, 0);
    for (let i = 0; i < 10; i++) book.touch(entry(`g${i}`), 1e11 + i);
    expect(book.pending()).toEqual([pending]);
    expect(book.pendingCount).toBe(1);
    pending.state = 'settled';
    book.touch(pending, 2e11);
    expect(book.pendingCount).toBe(0);
    expect(book.get('pending')).toBe(pending);
  });

  it('a touch moves a payment without losing it: counted once, found, and evicted in last-touched order', () => {
    const book = new PaymentBook({ maxEntries: 3, retentionMs: 1e12, activeTtlMs: 1e12 });
    const [a, b, c] = [entry('a'), entry('b'), entry('c')];
    for (const e of [a, b, c]) book.touch(e, 0);
    for (let i = 1; i <= 5; i++) {
      book.touch(a, i); // to the back, again and again
      book.touch(a, i); // already last
    }
    expect(book.size).toBe(3);
    expect(book.find('a', 'h-a')).toBe(a);
    expect(book.find('sha256:h-b', 'h-b')).toBe(b);
    // Over the limit: the least recently touched (b, then c) go first, a stays.
    book.touch(entry('d'), 6);
    expect(book.get('b')).toBeUndefined();
    expect(book.find('x', 'h-b')).toBeUndefined();
    expect(book.get('c')).toBeDefined();
    book.touch(entry('e'), 7);
    expect(book.get('c')).toBeUndefined();
    expect(book.get('a')).toBe(a);
    expect(book.size).toBe(3);
    // Out to pending and back in: still one entry, now the most recently touched.
    a.state = 'pending_reconciliation';
    book.touch(a, 9);
    expect(book.size).toBe(2);
    expect(book.pendingCount).toBe(1);
    expect(book.get('a')).toBe(a);
    a.state = 'settled';
    book.touch(a, 10);
    expect(book.size).toBe(3);
    expect(book.pendingCount).toBe(0);
    book.touch(entry('g'), 11);
    expect(book.get('d')).toBeUndefined();
    expect(book.get('a')).toBe(a);
  });

  it('holds() is true exactly while the book keeps that entry for its id (in order or pending)', () => {
    const book = new PaymentBook({ maxEntries: 1, retentionMs: 100, activeTtlMs: 100 });
    const a = entry('a', 'settled', 'ha');
    expect(book.holds(a)).toBe(false);
    book.touch(a, 0);
    expect(book.holds(a)).toBe(true);
    a.state = 'pending_reconciliation';
    book.touch(a, 1);
    expect(book.holds(a)).toBe(true);
    expect(book.find('sha256:ha', 'ha')).toBe(a);
    a.state = 'settled';
    book.touch(a, 2);
    expect(book.holds(a)).toBe(true);
    // A second entry under the same id takes its place (callers look up first; the book stays one per id).
    const twin = entry('a', 'settled', 'ha');
    book.touch(twin, 3);
    expect(book.holds(a)).toBe(false);
    expect(book.holds(twin)).toBe(true);
    expect(book.get('a')).toBe(twin);
    expect(book.size).toBe(1);
    // Forgotten (time): no longer held, and touching it again brings it back as a new entry.
    book.touch(entry('b'), 200);
    expect(book.holds(twin)).toBe(false);
    expect(book.find('a', 'ha')).toBeUndefined();
    book.touch(twin, 201);
    expect(book.holds(twin)).toBe(true);
    expect(book.find('x', 'ha')).toBe(twin);
  });

  it('rekey moves the signed-payload alias at once for a held entry', () => {
    const book = new PaymentBook({ maxEntries: 10, retentionMs: 1000, activeTtlMs: 1000 });
    const e = entry('pid:a', 'held', 'hash-1');
    book.touch(e, 0);
    book.rekey(e, 'hash-2');
    expect(book.find('sha256:hash-1', 'hash-1')).toBeUndefined();
    expect(book.find('sha256:hash-2', 'hash-2')).toBe(e);
    // Not held: the alias waits for the touch that adds it.
    const f = entry('pid:f', 'held', 'hash-3');
    book.rekey(f, 'hash-4');
    expect(book.find('x', 'hash-4')).toBeUndefined();
    book.touch(f, 1);
    expect(book.find('x', 'hash-4')).toBe(f);
  });

  it('finds a payment by its id, else by its signed payload under another id (model check)', () => {
    // Hash ids (`sha256:<hash>`, aliased by their id alone) and explicit ids (aliased by a map)
    // mixed over a few payloads; nothing expires. Model: the live entries, one per id.
    const hashes = ['h0', 'h1', 'h2'];
    const ids = ['sha256:h0', 'sha256:h1', 'sha256:h2', 'pid:a', 'pid:b'];
    const op = fc.oneof(
      fc.record({
        kind: fc.constant('touch' as const),
        id: fc.nat(4),
        hash: fc.nat(2),
        pending: fc.boolean(),
      }),
      fc.record({ kind: fc.constant('rekey' as const), id: fc.nat(4), hash: fc.nat(2) }),
      fc.record({ kind: fc.constant('find' as const), id: fc.nat(4), hash: fc.nat(2) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
        const book = new PaymentBook({ maxEntries: 1e6, retentionMs: 1e12, activeTtlMs: 1e12 });
        const live = new Map<string, PaymentEntry>();
        let now = 0;
        for (const o of ops) {
          const id = ids[o.id]!;
          // A hash id always names its own payload.
          const hash = id.startsWith('sha256:') ? id.slice(7) : hashes[o.hash]!;
          if (o.kind === 'touch') {
            const e = live.get(id) ?? entry(id, 'settled', hash);
            e.state = o.pending ? 'pending_reconciliation' : 'settled';
            book.touch(e, now++);
            live.set(id, e);
          } else if (o.kind === 'rekey') {
            const e = live.get(id);
            if (e && !id.startsWith('sha256:')) book.rekey(e, hash);
          } else {
            const found = book.find(id, hash);
            const byId = live.get(id);
            if (byId) expect(found).toBe(byId);
            else {
              const samePayload = [...live.values()].filter((e) => e.payloadHash === hash);
              if (samePayload.length === 0) expect(found).toBeUndefined();
              else expect(samePayload).toContain(found);
            }
          }
          for (const [k, e] of live) {
            expect(book.get(k)).toBe(e);
            expect(book.holds(e)).toBe(true);
          }
          expect(book.size + book.pendingCount).toBe(live.size);
        }
      }),
    );
  });
});
