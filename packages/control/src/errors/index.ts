export { ControlErrorCode } from './codes.js';
