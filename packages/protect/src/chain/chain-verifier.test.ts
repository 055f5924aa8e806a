import type { AuditRecord } from '@bursar/core';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildLog, keys, otherKeys } from '../__fixtures__/logs.js';
import { ChainVerifier, type TamperReason, verifyRecords } from './chain-verifier.js';
import { resolveSigner, signCheckpoint } from './checkpoint.js';
import { GENESIS_HASH, recordHash } from './record-hash.js';

const entry = fc.record({
  type: fc.constantFrom('intent.received', 'decision.made', 'approval.resolved', 'payment.settled', 'note'),
  data: fc.record(
    {
      agentId: fc.constantFrom('bot-a', 'bot-b'),
      intentId: fc.constantFrom('int_1', 'int_2', 'int_3'),
      amount: fc.constantFrom('1.00', '25.50', '2400.00'),
      note: fc.string({ maxLength: 20 }),
      n: fc.integer(),
    },
    { requiredKeys: ['agentId'] },
  ),
});

/** A signed log of 6..50 records (checkpoints every 2..6 included), with the checkpoints it published. */
const logArb = fc
  .tuple(fc.array(entry, { minLength: 6, maxLength: 40 }), fc.integer({ min: 2, max: 6 }))
  .map(([entries, every]) => ({ entries, every }));

function edit(r: AuditRecord, rehash: boolean): AuditRecord {
  const data = { ...r.data, tampered: true };
  const body = { seq: r.seq, at: r.at, type: r.type, data, prevHash: r.prevHash };
  return { ...body, hash: rehash ? recordHash(body) : r.hash };
}

/** Re-links every record after `from` so the chain is consistent again (a rewrite). */
function rechain(records: AuditRecord[], from: number): AuditRecord[] {
  const out = records.slice(0, from);
  for (let i = from; i < records.length; i++) {
    const r = records[i]!;
    const prevHash = out[i - 1]?.hash ?? GENESIS_HASH;
    const body = { seq: i + 1, at: r.at, type: r.type, data: r.data, prevHash };
    out.push({ ...body, hash: recordHash(body) });
  }
  return out;
}

type Mutation =
  | { kind: 'edit'; k: number }
  | { kind: 'editRehash'; k: number }
  | { kind: 'delete'; k: number }
  | { kind: 'insertCopy'; j: number; k: number }
  | { kind: 'insertForged'; k: number }
  | { kind: 'swap'; i: number; j: number }
  | { kind: 'truncate'; t: number };

/** The mutation applied to 0-based positions; returns the tampered list and the reasons that are right. */
function apply(
  records: AuditRecord[],
  m: Mutation,
): { tampered: AuditRecord[]; reasons: TamperReason[]; at: number[] } {
  const t = [...records];
  switch (m.kind) {
    case 'edit':
      t[m.k] = edit(t[m.k]!, false);
      return { tampered: t, reasons: ['edited'], at: [m.k + 1] };
    case 'editRehash':
      t[m.k] = edit(t[m.k]!, true);
      return { tampered: t, reasons: ['edited'], at: [m.k + 1] };
    case 'delete':
      t.splice(m.k, 1);
      return { tampered: t, reasons: ['deleted'], at: [m.k + 1] };
    case 'insertCopy':
      t.splice(m.k, 0, records[m.j]!);
      return { tampered: t, reasons: ['inserted'], at: [m.k + 1, m.k + 2] };
    case 'insertForged': {
      const prevHash = t[m.k - 1]?.hash ?? GENESIS_HASH;
      const body = {
        seq: m.k + 1,
        at: t[m.k]!.at,
        type: 'payment.settled',
        data: { agentId: 'forger' },
        prevHash,
      };
      t.splice(m.k, 0, { ...body, hash: recordHash(body) });
      // A forged record at an anchored seq disagrees with the published checkpoint first.
      return { tampered: t, reasons: ['inserted', 'rewritten'], at: [m.k + 1, m.k + 2] };
    }
    case 'swap':
      [t[m.i], t[m.j]] = [t[m.j]!, t[m.i]!];
      return { tampered: t, reasons: ['reordered'], at: [m.i + 1] };
    case 'truncate':
      return { tampered: t.slice(0, m.t), reasons: ['truncated'], at: [m.t + 1] };
  }
}

/** A single change anywhere before the last published checkpoint's record (0-based positions). */
function mutationArb(n: number, lastCovered: number): fc.Arbitrary<Mutation> {
  const before = fc.integer({ min: 0, max: n - 2 }); // not the very last record
  const any = fc.integer({ min: 0, max: n - 1 });
  return fc.oneof(
    any.map((k) => ({ kind: 'edit' as const, k })),
    before.map((k) => ({ kind: 'editRehash' as const, k })),
    before.map((k) => ({ kind: 'delete' as const, k })),
    fc.tuple(any, any).map(([j, k]) => ({ kind: 'insertCopy' as const, j, k })),
    any.map((k) => ({ kind: 'insertForged' as const, k })),
    fc
      .tuple(any, any)
      .filter(([i, j]) => i !== j)
      .map(([a, b]) => ({ kind: 'swap' as const, i: Math.min(a, b), j: Math.max(a, b) })),
    fc.integer({ min: 0, max: lastCovered - 1 }).map((t) => ({ kind: 'truncate' as const, t })),
  );
}

describe('verifyRecords: tamper detection (property)', () => {
  it('detects any single edit, deletion, insertion, swap or truncation before the last checkpoint; a clean log verifies', async () => {
    await fc.assert(
      fc.asyncProperty(logArb, fc.integer({ min: 0, max: 1_000_000 }), async ({ entries, every }, pick) => {
        const { records, published } = await buildLog(entries, { checkpointEvery: every });
        const options = { publicKey: keys.publicKey, checkpoints: published };
        const clean = verifyRecords(records, options);
        expect(clean).toMatchObject({ ok: true, records: records.length, checkpoints: published.length });
        expect(published.length).toBeGreaterThan(0);
        const lastCovered = published[published.length - 1]!.seq;
        const mutation = fc.sample(mutationArb(records.length, lastCovered), { seed: pick, numRuns: 1 })[0]!;
        const { tampered, reasons, at } = apply(records, mutation);
        const result = verifyRecords(tampered, options);
        expect(result.ok, JSON.stringify(mutation)).toBe(false);
        if (result.ok) return;
        expect(reasons, JSON.stringify({ mutation, result })).toContain(result.reason);
        expect(at, JSON.stringify({ mutation, result })).toContain(result.seq);
      }),
      { numRuns: 300 },
    );
  });
});

describe('verifyRecords: reasons', () => {
  const entries = Array.from({ length: 12 }, (_, i) => ({
    type: i % 2 ? 'decision.made' : 'intent.received',
    data: { agentId: 'bot', intentId: `int_${i >> 1}`, amount: `${i}.00` },
  }));

  it('reports an empty log as valid', () => {
    expect(verifyRecords([])).toEqual({
      ok: true,
      records: 0,
      checkpoints: 0,
      signatures: 'none',
      anchorsChecked: 0,
      head: null,
    });
  });

  it('says signatures are unchecked without a public key', async () => {
    const { records } = await buildLog(entries, { checkpointEvery: 4 });
    expect(verifyRecords(records)).toMatchObject({
      ok: true,
      records: 15,
      checkpoints: 3,
      signatures: 'unchecked',
    });
  });

  it('names the first broken link and why', async () => {
    const { records } = await buildLog(entries, { checkpointEvery: 4 });
    const edited = [...records];
    edited[6] = edit(records[6]!, false);
    expect(verifyRecords(edited)).toMatchObject({ ok: false, seq: 7, reason: 'edited', verified: 6 });
    const deleted = records.filter((_, i) => i !== 2 && i !== 3);
    expect(verifyRecords(deleted)).toMatchObject({
      ok: false,
      seq: 3,
      reason: 'deleted',
      message: expect.stringContaining('records 3..4 are missing'),
    });
  });

  it('rejects a checkpoint re-signed with another key', async () => {
    const { records } = await buildLog(entries, { checkpointEvery: 4 });
    const cpIndex = records.findIndex((r) => r.type === 'checkpoint');
    const cp = records[cpIndex]!;
    const forged = signCheckpoint(
      { seq: cp.seq - 1, hash: cp.prevHash, at: cp.at },
      resolveSigner({ privateKey: otherKeys.privateKey, keyId: (cp.data as { keyId: string }).keyId }),
    );
    const tampered = [...records];
    tampered[cpIndex] = { ...cp, data: { ...forged } };
    const result = verifyRecords(rechain(tampered, cpIndex), { publicKey: keys.publicKey });
    expect(result).toMatchObject({ ok: false, seq: cpIndex + 1, reason: 'bad_signature' });
  });

  it('rejects a checkpoint that does not cover the record before it', async () => {
    const { records } = await buildLog(entries, { checkpointEvery: 4 });
    const cpIndex = records.findIndex((r) => r.type === 'checkpoint');
    const cp = records[cpIndex]!;
    const wrong = { ...cp, data: { ...cp.data, seq: cp.seq - 2 } };
    const rebuilt = rechain([...records.slice(0, cpIndex), wrong, ...records.slice(cpIndex + 1)], cpIndex);
    expect(verifyRecords(rebuilt)).toMatchObject({ ok: false, seq: cpIndex + 1, reason: 'bad_checkpoint' });
  });

  it('detects a whole-log rewrite only against a published checkpoint', async () => {
    const { records, published } = await buildLog(entries, { checkpointEvery: 4 });
    const rewritten = [...records];
    rewritten[1] = edit(records[1]!, true);
    const consistent = rechain(rewritten, 1).filter((r) => r.type !== 'checkpoint');
    // Without an external anchor, a consistent rewrite (checkpoints dropped) cannot be told apart.
    expect(verifyRecords(rechain(consistent, 0))).toMatchObject({ ok: true });
    const result = verifyRecords(rechain(consistent, 0), { checkpoints: published });
    expect(result).toMatchObject({ ok: false, reason: 'rewritten', seq: published[0]!.seq });
  });

  it('detects a truncated tail only against a published checkpoint (the documented limit)', async () => {
    const { records, published } = await buildLog(entries, { checkpointEvery: 4 });
    const cut = records.slice(0, 3);
    expect(verifyRecords(cut)).toMatchObject({ ok: true, records: 3 });
    expect(verifyRecords(cut, { checkpoints: published })).toMatchObject({
      ok: false,
      reason: 'truncated',
      seq: 4,
      message: expect.stringContaining(`records 4..${published[published.length - 1]!.seq} were removed`),
    });
  });

  it('accepts unsigned anchors and rejects a published checkpoint with a bad signature', async () => {
    const { records, published } = await buildLog(entries, { checkpointEvery: 4 });
    const head = records[records.length - 1]!;
    expect(verifyRecords(records, { checkpoints: [{ seq: head.seq, hash: head.hash }] })).toMatchObject({
      ok: true,
      anchorsChecked: 1,
    });
    const forged = { ...published[0]!, signature: published[1]!.signature };
    expect(verifyRecords(records, { publicKey: keys.publicKey, checkpoints: [forged] })).toMatchObject({
      ok: false,
      reason: 'bad_signature',
      seq: forged.seq,
    });
  });

  it('reports malformed records, including extra fields outside the hash', async () => {
    const { records } = await buildLog(entries.slice(0, 3), { checkpointEvery: 0 });
    expect(verifyRecords([records[0], { ...records[1]!, note: 'unhashed' }, records[2]])).toMatchObject({
      ok: false,
      seq: 2,
      reason: 'malformed',
    });
    expect(verifyRecords([records[0], 'junk'])).toMatchObject({ ok: false, seq: 2, reason: 'malformed' });
  });

  it('streams: stops being useful once done, and rejects bad options', async () => {
    const { records } = await buildLog(entries.slice(0, 4), { checkpointEvery: 0 });
    const v = new ChainVerifier({ lookahead: 1 });
    v.push(records[0]);
    v.push(records[2]);
    expect(v.done).toBe(false);
    v.push(records[1]);
    expect(v.done).toBe(true);
    expect(v.finish()).toMatchObject({ ok: false, reason: 'reordered', seq: 2 });
    expect(() => new ChainVerifier({ checkpoints: [{ seq: 0, hash: 'x' }] })).toThrow(
      expect.objectContaining({ code: 'ERR_BURSAR_INVALID_ARGUMENT' }),
    );
    expect(() => new ChainVerifier({ publicKey: 'not a key' })).toThrow(
      expect.objectContaining({ code: 'ERR_BURSAR_INVALID_OPTIONS' }),
    );
  });
});
