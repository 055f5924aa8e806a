import * as nodeCrypto from 'node:crypto';
import { type AuditRecord, canonicalJson } from '@bursar/core';
import { fastCanonicalJson, quote } from './fast-canonical.js';

/** The `prevHash` of record 1: 64 zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** The record type of a signed checkpoint. Reserved: `append()` refuses it. */
export const CHECKPOINT_TYPE = 'checkpoint';

/** The fields a record's hash covers: everything but the hash itself. */
export type RecordBody = Pick<AuditRecord, 'seq' | 'at' | 'type' | 'data' | 'prevHash'>;

/**
 * The hashed text of a record: core's canonical JSON of `{ seq, at, type, data, prevHash }`,
 * built from the already canonical text of `data` (keys in canonical order: at, data,
 * prevHash, seq, type). `seq` and `at` must be finite numbers.
 */
export function recordBodyJson(
  seq: number,
  at: number,
  type: string,
  dataJson: string,
  prevHash: string,
): string {
  // For finite numbers String(n) is exactly JSON.stringify(n).
  return `{"at":${at},"data":${dataJson},"prevHash":${quote(prevHash)},"seq":${seq},"type":${quote(type)}}`;
}

type OneShotHash = (algorithm: string, data: string, encoding: 'hex') => string;
// crypto.hash (Node ≥ 20.12) hashes small inputs about twice as fast as createHash.
const oneShot = (nodeCrypto as unknown as { hash?: OneShotHash }).hash;

/** Hex SHA-256 of a string (UTF-8). */
export const sha256: (text: string) => string =
  typeof oneShot === 'function'
    ? (text) => oneShot('sha256', text, 'hex')
    : (text) => nodeCrypto.createHash('sha256').update(text).digest('hex');

/**
 * The hash a record must carry: hex SHA-256 of core `canonicalJson({ seq, at, type, data, prevHash })`.
 *
 * @example
 * const hash = recordHash({ seq: 1, at: 0, type: 'note', data: { text: 'hi' }, prevHash: GENESIS_HASH });
 */
export function recordHash(body: RecordBody): string {
  const { seq, at, type, data, prevHash } = body;
  if (
    typeof seq === 'number' &&
    Number.isFinite(seq) &&
    typeof at === 'number' &&
    Number.isFinite(at) &&
    typeof type === 'string' &&
    typeof prevHash === 'string' &&
    typeof data === 'object' &&
    data !== null
  ) {
    return sha256(recordBodyJson(seq, at, type, fastCanonicalJson(data), prevHash));
  }
  // Odd shapes take the general path, so the hash is always that of the canonical body.
  return sha256(canonicalJson({ seq, at, type, data, prevHash }));
}
