export {
  DEFAULT_SIGNATURE_TOLERANCE_MS,
  SIGNATURE_HEADER,
  type SignOptions,
  signWebhook,
  type VerifyOptions,
  type VerifyResult,
  verifyWebhook,
} from './signing.js';
