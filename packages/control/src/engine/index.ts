export type { ApprovalHook, ApprovalHookAnswer, PolicyEngineOptions } from './options.js';
export {
  type AgentStatus,
  type BudgetStatusQuery,
  type EvaluateOptions,
  type HoldResult,
  type KillSwitchChange,
  type LoadedPolicy,
  PolicyEngine,
} from './policy-engine.js';
