import { generateKeyPairSync } from 'node:crypto';
import { ErrorCode } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { keys, otherKeys } from '../__fixtures__/logs.js';
import {
  checkpointMessage,
  keyFingerprint,
  resolveSigner,
  signCheckpoint,
  toPublicKey,
  verifyCheckpointSignature,
} from './checkpoint.js';

describe('checkpoints', () => {
  const signer = resolveSigner({ privateKey: keys.privateKey });
  const cp = signCheckpoint({ seq: 42, hash: 'f'.repeat(64), at: 1_767_225_600_000 }, signer);

  it('signs seq, hash, time and key id, with a domain-separated message', () => {
    expect(cp).toMatchObject({
      seq: 42,
      hash: 'f'.repeat(64),
      at: 1_767_225_600_000,
      alg: 'Ed25519',
      keyId: keyFingerprint(keys.publicKey),
    });
    expect(cp.keyId).toMatch(/^[0-9a-f]{16}$/);
    expect(checkpointMessage(cp)).toBe(
      `{"at":1767225600000,"domain":"bursar.audit.checkpoint.v1","hash":"${'f'.repeat(64)}","keyId":"${cp.keyId}","seq":42}`,
    );
    expect(verifyCheckpointSignature(cp, keys.publicKey)).toBe(true);
  });

  it('fails verification for any changed field, another key, or junk', () => {
    expect(verifyCheckpointSignature({ ...cp, seq: 43 }, keys.publicKey)).toBe(false);
    expect(verifyCheckpointSignature({ ...cp, hash: 'e'.repeat(64) }, keys.publicKey)).toBe(false);
    expect(verifyCheckpointSignature({ ...cp, at: cp.at + 1 }, keys.publicKey)).toBe(false);
    expect(verifyCheckpointSignature({ ...cp, keyId: 'other' }, keys.publicKey)).toBe(false);
    expect(verifyCheckpointSignature(cp, otherKeys.publicKey)).toBe(false);
    expect(verifyCheckpointSignature({ ...cp, signature: '!!!' }, keys.publicKey)).toBe(false);
    expect(verifyCheckpointSignature({ seq: 1, hash: 'x' }, keys.publicKey)).toBe(false);
  });

  it('reads keys from PEM or KeyObject, private or public, and refuses other algorithms', () => {
    const pem = keys.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
    expect(resolveSigner({ privateKey: pem, keyId: 'ops-2026' }).keyId).toBe('ops-2026');
    expect(toPublicKey(keys.privateKey).export({ type: 'spki', format: 'pem' })).toBe(
      keys.publicKey.export({ type: 'spki', format: 'pem' }),
    );
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expect(() => toPublicKey(ec.publicKey)).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_OPTIONS }),
    );
    expect(() => resolveSigner({ privateKey: keys.publicKey })).toThrow(
      expect.objectContaining({ code: ErrorCode.INVALID_OPTIONS }),
    );
  });
});
