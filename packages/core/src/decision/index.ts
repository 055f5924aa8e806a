export {
  type Decision,
  mostRestrictive,
  OUTCOMES,
  type Outcome,
  outcomeSeverity,
  type PolicyRef,
  type Reason,
  type ReasonSource,
  sortReasons,
} from './decision.js';
export type { BudgetStatus, BudgetStatusSource, RiskSignal, RiskSignalProvider } from './signals.js';
