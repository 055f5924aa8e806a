import { type AuditRecord, type AuditStore, BursarError, ErrorCode, MemoryAuditStore } from '@bursar/core';

/**
 * An audit store whose records a test can tamper with, the way someone with disk or database
 * access could. It enforces the append contract like a real store.
 */
export class TamperableAuditStore implements AuditStore {
  records: AuditRecord[] = [];

  async head(): Promise<{ seq: number; hash: string } | null> {
    const last = this.records[this.records.length - 1];
    return last ? { seq: last.seq, hash: last.hash } : null;
  }

  async append(record: AuditRecord): Promise<void> {
    const last = this.records[this.records.length - 1];
    if (record.seq !== (last?.seq ?? 0) + 1 || (last && record.prevHash !== last.hash)) {
      throw new BursarError(ErrorCode.CONFLICT, 'out of order');
    }
    this.records.push(structuredClone(record));
  }

  async read(args: { fromSeq?: number; limit?: number } = {}): Promise<AuditRecord[]> {
    const from = Math.max(1, args.fromSeq ?? 1);
    return this.records.slice(from - 1, args.limit === undefined ? undefined : from - 1 + args.limit);
  }
}

/** Core's memory store behind real awaits (a stand-in for a remote, shared store). */
export class SlowSharedStore implements AuditStore {
  readonly inner = new MemoryAuditStore();
  appends = 0;
  conflicts = 0;

  async head() {
    await tick();
    return this.inner.head();
  }

  async append(record: AuditRecord) {
    await tick();
    this.appends++;
    try {
      await this.inner.append(record);
    } catch (error) {
      this.conflicts++;
      throw error;
    }
  }

  async read(args?: { fromSeq?: number; limit?: number }) {
    await tick();
    return this.inner.read(args);
  }
}

function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
