export * from './breaker/index.js';
export * from './buyer/index.js';
export * from './errors/index.js';
export * from './facilitator/index.js';
export * from './seller/index.js';
