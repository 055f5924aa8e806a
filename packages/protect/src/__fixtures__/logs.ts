import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { type AuditRecord, ManualClock } from '@bursar/core';
import type { Checkpoint } from '../chain/checkpoint.js';
import { ProvenanceLog } from '../provenance/provenance-log.js';

/** One Ed25519 key pair for the whole test run (the user's key, in production). */
export const keys: { privateKey: KeyObject; publicKey: KeyObject } = generateKeyPairSync('ed25519');

/** Another key: what an attacker who re-signs checkpoints would hold. */
export const otherKeys: { privateKey: KeyObject; publicKey: KeyObject } = generateKeyPairSync('ed25519');

export const T0 = Date.parse('2026-01-05T12:00:00Z');

/** Record data of the kinds the log sees. */
export type EntryData = Record<string, unknown>;

/** Builds a signed log from `entries` and returns its records and the checkpoints it published. */
export async function buildLog(
  entries: readonly { type: string; data: EntryData }[],
  options: { checkpointEvery?: number } = {},
): Promise<{ log: ProvenanceLog; records: AuditRecord[]; published: Checkpoint[]; clock: ManualClock }> {
  const clock = new ManualClock(T0);
  const published: Checkpoint[] = [];
  const log = new ProvenanceLog({
    clock,
    signer: { privateKey: keys.privateKey },
    checkpointEvery: options.checkpointEvery ?? 5,
    onCheckpoint: (cp) => {
      published.push(cp);
    },
  });
  for (const e of entries) {
    clock.advance(1000);
    await log.append(e.type, e.data);
  }
  return { log, records: [...(await log.records())], published, clock };
}
