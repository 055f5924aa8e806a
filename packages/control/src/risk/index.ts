export { combineStrikes, riskKey } from './risk-keys.js';
export { signalReasons } from './signals.js';
