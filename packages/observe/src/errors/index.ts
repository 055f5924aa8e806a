export { ObserveErrorCode } from './observe-error-code.js';
