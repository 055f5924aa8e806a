export { X402ErrorCode } from './error-codes.js';
export { X402Reason } from './reason-codes.js';
