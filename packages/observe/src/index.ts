export * from './alerts/index.js';
export * from './analytics/index.js';
export * from './anomaly/index.js';
export * from './errors/index.js';
export * from './metrics/index.js';
export * from './tracker/index.js';
