export type { ApprovalGate, ApprovalStatusView } from './approval-gate.js';
export { IntegrationErrorCode } from './codes.js';
export type { ErrorReporter, GateEngine } from './gate-engine.js';
export type { AgentIdSource, CallGateOptions } from './gate-options.js';
export { type Guarded, type GuardOptions, guard } from './guard.js';
export type { IntentFields } from './intent-fields.js';
export { PolicyDeniedError } from './policy-denied-error.js';
export {
  type ProtectedTool,
  type ProtectedTools,
  type ProtectToolsOptions,
  protectTools,
  type ToolArgsMapper,
} from './protect-tools.js';
