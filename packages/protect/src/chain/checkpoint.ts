import { createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { BursarError, canonicalJson, ErrorCode, sha256Hex } from '@bursar/core';

/** The only signature algorithm checkpoints use. */
export const CHECKPOINT_ALG = 'Ed25519';

/** Domain separation: a checkpoint signature can never be mistaken for another signed message. */
const CHECKPOINT_DOMAIN = 'bursar.audit.checkpoint.v1';

/**
 * A signed statement "the record with this `seq` has this `hash`". It is stored in the log as
 * the `data` of a `checkpoint` record (covering the record right before it) and handed to
 * `onCheckpoint`, so it can be published somewhere the log's writer cannot rewrite.
 */
export interface Checkpoint {
  /** The covered record. */
  seq: number;
  /** That record's hash. */
  hash: string;
  /** Epoch ms when the checkpoint was signed. */
  at: number;
  /** Which key signed; defaults to the public key's fingerprint. */
  keyId: string;
  alg: typeof CHECKPOINT_ALG;
  /** Base64 Ed25519 signature of the checkpoint message. */
  signature: string;
}

/**
 * A value to check the log against: a published {@link Checkpoint}, or just `{ seq, hash }`
 * written down somewhere safe (an unsigned anchor).
 */
export interface TrustedCheckpoint {
  seq: number;
  hash: string;
  at?: number;
  keyId?: string;
  alg?: string;
  signature?: string;
}

/** The key that signs checkpoints. Supplied by the user; never generated or stored by Bursar. */
export interface CheckpointSigner {
  /** An Ed25519 private key: a `KeyObject` or a PKCS#8 PEM string. */
  privateKey: KeyObject | string;
  /** Names the key in every checkpoint (default: the first 16 hex of SHA-256 of its SPKI DER). */
  keyId?: string;
}

/** A validated signer, ready to sign. */
export interface ResolvedSigner {
  privateKey: KeyObject;
  publicKey: KeyObject;
  keyId: string;
}

/** The exact bytes a checkpoint signature covers. */
export function checkpointMessage(checkpoint: Pick<Checkpoint, 'seq' | 'hash' | 'at' | 'keyId'>): string {
  return canonicalJson({
    domain: CHECKPOINT_DOMAIN,
    seq: checkpoint.seq,
    hash: checkpoint.hash,
    at: checkpoint.at,
    keyId: checkpoint.keyId,
  });
}

/** The default key id: first 16 hex characters of SHA-256 of the public key's SPKI DER. */
export function keyFingerprint(publicKey: KeyObject): string {
  return sha256Hex(publicKey.export({ type: 'spki', format: 'der' })).slice(0, 16);
}

function invalidKey(message: string, cause?: unknown): BursarError {
  return new BursarError(ErrorCode.INVALID_OPTIONS, message, cause === undefined ? {} : { cause });
}

/** Checks that the signer holds an Ed25519 private key and works out its public key and id. */
export function resolveSigner(signer: CheckpointSigner): ResolvedSigner {
  let privateKey: KeyObject;
  try {
    privateKey =
      typeof signer.privateKey === 'string' ? createPrivateKey(signer.privateKey) : signer.privateKey;
  } catch (cause) {
    throw invalidKey('signer.privateKey is not a readable private key (PKCS#8 PEM or KeyObject)', cause);
  }
  if (privateKey.type !== 'private' || privateKey.asymmetricKeyType !== 'ed25519') {
    throw invalidKey(
      `signer.privateKey must be an Ed25519 private key; got ${privateKey.type} ${privateKey.asymmetricKeyType ?? ''}`.trim(),
    );
  }
  const publicKey = createPublicKey(privateKey);
  const keyId = signer.keyId ?? keyFingerprint(publicKey);
  return { privateKey, publicKey, keyId };
}

/**
 * Reads an Ed25519 public key from a `KeyObject` (public or private) or a PEM string.
 * Throws `ERR_BURSAR_INVALID_OPTIONS` for anything else.
 */
export function toPublicKey(key: KeyObject | string): KeyObject {
  let k: KeyObject;
  try {
    k = typeof key === 'string' ? createPublicKey(key) : key.type === 'private' ? createPublicKey(key) : key;
  } catch (cause) {
    throw invalidKey('publicKey is not a readable public key (SPKI PEM or KeyObject)', cause);
  }
  if (k.asymmetricKeyType !== 'ed25519') {
    throw invalidKey(`publicKey must be an Ed25519 key; got ${k.asymmetricKeyType ?? k.type}`);
  }
  return k;
}

/** Signs "record `seq` has hash `hash`" at time `at`. */
export function signCheckpoint(
  target: { seq: number; hash: string; at: number },
  signer: ResolvedSigner,
): Checkpoint {
  const body = { seq: target.seq, hash: target.hash, at: target.at, keyId: signer.keyId };
  const signature = sign(null, Buffer.from(checkpointMessage(body), 'utf8'), signer.privateKey).toString(
    'base64',
  );
  return { ...body, alg: CHECKPOINT_ALG, signature };
}

/** True when `checkpoint` carries a valid Ed25519 signature by `publicKey`. Never throws. */
export function verifyCheckpointSignature(checkpoint: TrustedCheckpoint, publicKey: KeyObject): boolean {
  const { seq, hash, at, keyId, alg, signature } = checkpoint;
  if (
    alg !== CHECKPOINT_ALG ||
    typeof signature !== 'string' ||
    typeof keyId !== 'string' ||
    typeof at !== 'number' ||
    !Number.isFinite(at) ||
    typeof seq !== 'number' ||
    typeof hash !== 'string'
  ) {
    return false;
  }
  try {
    return verify(
      null,
      Buffer.from(checkpointMessage({ seq, hash, at, keyId }), 'utf8'),
      publicKey,
      Buffer.from(signature, 'base64'),
    );
  } catch {
    return false;
  }
}
