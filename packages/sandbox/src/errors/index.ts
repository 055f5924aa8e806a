export { SandboxErrorCode } from './error-codes.js';
