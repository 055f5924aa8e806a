export {
  asAuditRecord,
  ChainVerifier,
  type ChainVerifyFailure,
  type ChainVerifyOk,
  type ChainVerifyOptions,
  type ChainVerifyResult,
  type SignatureStatus,
  type TamperReason,
  verifyRecords,
} from './chain-verifier.js';
export {
  CHECKPOINT_ALG,
  type Checkpoint,
  type CheckpointSigner,
  checkpointMessage,
  keyFingerprint,
  type ResolvedSigner,
  resolveSigner,
  signCheckpoint,
  type TrustedCheckpoint,
  toPublicKey,
  verifyCheckpointSignature,
} from './checkpoint.js';
export { type CanonicalCopy, canonicalCopy, fastCanonicalJson } from './fast-canonical.js';
export { CHECKPOINT_TYPE, GENESIS_HASH, type RecordBody, recordBodyJson, recordHash } from './record-hash.js';
