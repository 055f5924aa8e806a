import { appendFile, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ErrorCode, ManualClock } from '@bursar/core';
import { storeConformance } from '@bursar/core/testing';
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { keys, T0 } from '../__fixtures__/logs.js';
import { verifyJsonlFile } from '../export/verify-file.js';
import { ProvenanceLog } from '../provenance/provenance-log.js';
import { FrozenMemoryAuditStore } from './frozen-memory-audit-store.js';
import { JsonlFileAuditStore, type JsonlOpenReport } from './jsonl-file-audit-store.js';

const conformanceDir = await mkdtemp(join(tmpdir(), 'bursar-protect-conf-'));
const opened: JsonlFileAuditStore[] = [];
let n = 0;

storeConformance({
  name: 'FrozenMemoryAuditStore',
  factories: { audit: () => new FrozenMemoryAuditStore() },
});

storeConformance({
  name: 'JsonlFileAuditStore',
  factories: {
    audit: () => {
      const store = new JsonlFileAuditStore({
        path: join(conformanceDir, `conf-${n++}.jsonl`),
        fsync: 'never',
      });
      opened.push(store);
      return store;
    },
  },
  cleanup: async () => {
    await Promise.all(opened.splice(0).map((s) => s.close()));
  },
});

afterAll(async () => {
  await rm(conformanceDir, { recursive: true, force: true });
});

describe('JsonlFileAuditStore', () => {
  let dir: string;
  const stores: JsonlFileAuditStore[] = [];
  const make = (options: Partial<ConstructorParameters<typeof JsonlFileAuditStore>[0]> = {}) => {
    const store = new JsonlFileAuditStore({ path: join(dir, 'audit.jsonl'), ...options });
    stores.push(store);
    return store;
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'bursar-protect-'));
  });

  afterEach(async () => {
    vi.useRealTimers();
    await Promise.all(stores.splice(0).map((s) => s.close()));
    await rm(dir, { recursive: true, force: true });
  });

  async function fill(store: JsonlFileAuditStore, count: number) {
    const log = new ProvenanceLog({
      store,
      clock: new ManualClock(T0),
      signer: { privateKey: keys.privateKey },
      checkpointEvery: 4,
    });
    for (let i = 0; i < count; i++)
      await log.append('payment.settled', { agentId: 'bot', intentId: `int_${i}`, amount: `${i}.00` });
    return log;
  }

  it('writes one canonical record per line and reopens where it left off', async () => {
    const store = make({ fsync: 'always' });
    await fill(store, 5);
    await store.close();
    const text = await readFile(join(dir, 'audit.jsonl'), 'utf8');
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(6); // 5 records + 1 checkpoint
    expect(JSON.parse(lines[0]!)).toMatchObject({
      seq: 1,
      type: 'payment.settled',
      data: { amount: '0.00' },
    });

    const again = make();
    expect(await again.open()).toEqual({ path: join(dir, 'audit.jsonl'), records: 6 });
    const log = new ProvenanceLog({ store: again, clock: new ManualClock(T0) });
    expect(await log.append('note', { agentId: 'bot' })).toMatchObject({ seq: 7 });
    expect((await log.chain('int_2')).map((r) => r.seq)).toEqual([3]);
    expect(await log.verify({ publicKey: keys.publicKey })).toMatchObject({
      ok: true,
      records: 7,
      checkpoints: 1,
    });
    expect(
      await verifyJsonlFile({ path: join(dir, 'audit.jsonl'), publicKey: keys.publicKey }),
    ).toMatchObject({
      ok: true,
      format: 'store',
      records: 7,
    });
  });

  it('recovers a torn last line after a crash: truncates it and reports it', async () => {
    const path = join(dir, 'audit.jsonl');
    const store = make({ fsync: 'never' });
    await fill(store, 3);
    await store.close();
    const before = (await stat(path)).size;
    // A crash in the middle of a write: half a record, no newline.
    await appendFile(path, '{"at":1767225600000,"data":{"agentId":"bo');
    const reports: JsonlOpenReport[] = [];
    const reopened = make({ onRecover: (r) => reports.push(r) });
    const report = await reopened.open();
    expect(report).toEqual({ path, records: 3, recovered: { offset: before, droppedBytes: 41 } });
    expect(reports).toEqual([report]);
    expect((await stat(path)).size).toBe(before);
    const log = new ProvenanceLog({ store: reopened, clock: new ManualClock(T0) });
    expect(await log.append('note', {})).toMatchObject({ seq: 4 });
    expect(await log.verify()).toMatchObject({ ok: true, records: 4 });
  });

  it('drops trailing NUL bytes a power cut can leave', async () => {
    const path = join(dir, 'audit.jsonl');
    const store = make();
    await fill(store, 2);
    await store.close();
    await appendFile(path, Buffer.alloc(512));
    const reopened = make();
    expect(await reopened.open()).toMatchObject({ records: 2, recovered: { droppedBytes: 512 } });
  });

  it('refuses to open a file whose last complete line is damaged (not torn)', async () => {
    const path = join(dir, 'audit.jsonl');
    await writeFile(path, 'this is not json\n');
    await expect(make().open()).rejects.toThrow(expect.objectContaining({ code: ErrorCode.STORE }));
  });

  it('hands out damaged middle lines as unreadable, which verify reports as malformed', async () => {
    const path = join(dir, 'audit.jsonl');
    const store = make();
    await fill(store, 3);
    await store.close();
    const lines = (await readFile(path, 'utf8')).split('\n');
    lines[1] = '{ garbage';
    await writeFile(path, lines.join('\n'));
    const reopened = make();
    const records = await reopened.read();
    expect(records[1]).toMatchObject({ unreadable: true, line: 2 });
    const log = new ProvenanceLog({ store: reopened });
    expect(await log.verify()).toMatchObject({ ok: false, seq: 2, reason: 'malformed' });
  });

  it('reads ranges by seq', async () => {
    const store = make({ fsync: 'never' });
    await fill(store, 8);
    expect((await store.read({ fromSeq: 4, limit: 3 })).map((r) => r.seq)).toEqual([4, 5, 6]);
    expect((await store.read({ fromSeq: 9 })).map((r) => r.seq)).toEqual([9, 10]);
    expect(await store.read({ fromSeq: 11 })).toEqual([]);
    expect(await store.read({ limit: 0 })).toEqual([]);
    const [first] = await store.read({ limit: 1 });
    expect(Object.isFrozen(first!.data)).toBe(true);
    expect(await store.head()).toMatchObject({ seq: 10 });
  });

  it('syncs on an interval and stops its timer on close', async () => {
    const store = make({ fsync: 'interval', fsyncIntervalMs: 20 });
    await fill(store, 2);
    await new Promise((r) => setTimeout(r, 60));
    await store.flush();
    await store.close();
    await store.close();
    await expect(
      store.append({ seq: 4, at: 0, type: 'x', data: {}, prevHash: '', hash: '' }),
    ).rejects.toThrow(expect.objectContaining({ code: ErrorCode.STORE }));
    await expect(store.read()).rejects.toThrow(expect.objectContaining({ code: ErrorCode.STORE }));
  });

  it('validates options', () => {
    expect(() => new JsonlFileAuditStore({ path: '' })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_OPTIONS }),
    );
    expect(() => new JsonlFileAuditStore({ path: 'x', fsync: 'sometimes' as never })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_OPTIONS }),
    );
  });
});
