export {
  MemorySpendStore,
  type MemorySpendStoreOptions,
  validateRequest as validateHoldRequest,
} from './memory-spend-store.js';
export {
  createMemoryStores,
  deepFreeze,
  MemoryAgentStateStore,
  MemoryApprovalStore,
  type MemoryApprovalStoreOptions,
  MemoryAuditStore,
  MemoryIdempotencyStore,
} from './memory-stores.js';
export type {
  AgentState,
  AgentStateStore,
  ApprovalRecord,
  ApprovalStore,
  AuditRecord,
  AuditStore,
  BursarStores,
  IdempotencyBegin,
  IdempotencyStore,
  KillSwitch,
  KillSwitchScope,
} from './other-stores.js';
export type {
  CounterCheck,
  CounterUsage,
  HoldRecord,
  HoldState,
  PlaceHoldRequest,
  PlaceHoldResult,
  SpendStore,
} from './spend-store.js';
