export {
  type AgentId,
  type ApprovalId,
  type Brand,
  type HoldId,
  type IntentId,
  newApprovalId,
  newHoldId,
  newId,
  newIntentId,
  type PolicyId,
} from './ids.js';
