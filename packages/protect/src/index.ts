export * from './chain/index.js';
export * from './cli/index.js';
export * from './disputes/index.js';
export { ProtectErrorCode } from './errors.js';
export * from './export/index.js';
export type { ErrorContext, ErrorReporter } from './internal/report.js';
export * from './provenance/index.js';
export * from './recovery/index.js';
export * from './stores/index.js';
