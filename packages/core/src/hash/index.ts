export { canonicalHash, canonicalJson, sha256Hex } from './canonical.js';
