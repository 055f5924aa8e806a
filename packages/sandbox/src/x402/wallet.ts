import { createHash, createPrivateKey, createPublicKey, type KeyObject, sign, verify } from 'node:crypto';
import { BursarError, ErrorCode } from '@bursar/core';
import { SeededRandom } from '../random/index.js';

// DER prefixes that turn a raw 32-byte Ed25519 seed / public key into PKCS#8 / SPKI.
const PKCS8_ED25519 = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

/** The address of an Ed25519 public key (hex): `0x` + the first 20 bytes of its SHA-256. */
export function addressOf(publicKeyHex: string): string {
  return `0x${createHash('sha256').update(Buffer.from(publicKeyHex, 'hex')).digest('hex').slice(0, 40)}`;
}

/** Checks an Ed25519 signature (hex) over `message` by the raw public key (hex). Never throws. */
export function verifySignature(publicKeyHex: string, message: string, signatureHex: string): boolean {
  try {
    if (!/^[0-9a-f]{64}$/.test(publicKeyHex) || !/^[0-9a-f]{128}$/.test(signatureHex)) return false;
    const key = createPublicKey({
      key: Buffer.concat([SPKI_ED25519, Buffer.from(publicKeyHex, 'hex')]),
      format: 'der',
      type: 'spki',
    });
    return verify(null, Buffer.from(message, 'utf8'), key, Buffer.from(signatureHex, 'hex'));
  } catch {
    return false;
  }
}

/**
 * A buyer's key pair for the sandbox scheme. Ed25519 keys come from the seed, and Ed25519
 * signatures are deterministic, so a seed replays every signature byte for byte.
 *
 * @example
 * const wallet = SandboxWallet.fromSeed(7, 'research-bot');
 * wallet.address; // '0x…' (same for seed 7 and that name, every run)
 */
export class SandboxWallet {
  readonly name: string;
  readonly address: string;
  /** Raw Ed25519 public key, hex. */
  readonly publicKey: string;
  readonly #key: KeyObject;

  private constructor(name: string, seed32: Uint8Array) {
    if (seed32.length !== 32) {
      throw new BursarError(ErrorCode.INVALID_ARGUMENT, 'A wallet key seed must be 32 bytes');
    }
    this.name = name;
    this.#key = createPrivateKey({
      key: Buffer.concat([PKCS8_ED25519, Buffer.from(seed32)]),
      format: 'der',
      type: 'pkcs8',
    });
    const spki = createPublicKey(this.#key).export({ format: 'der', type: 'spki' });
    this.publicKey = Buffer.from(spki.subarray(spki.length - 32)).toString('hex');
    this.address = addressOf(this.publicKey);
  }

  /** A wallet whose key derives from `seed` and `name` (same inputs, same wallet). */
  static fromSeed(seed: SeededRandom | number | string, name: string): SandboxWallet {
    const rng =
      seed instanceof SeededRandom ? seed.fork(`wallet:${name}`) : new SeededRandom(seed, `wallet:${name}`);
    return new SandboxWallet(name, rng.bytes(32));
  }

  /** Ed25519 signature (hex) over the UTF-8 `message`. */
  sign(message: string): string {
    return sign(null, Buffer.from(message, 'utf8'), this.#key).toString('hex');
  }

  toJSON(): { name: string; address: string; publicKey: string } {
    return { name: this.name, address: this.address, publicKey: this.publicKey };
  }
}
