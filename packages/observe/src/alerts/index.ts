export {
  type AlertKind,
  AlertRule,
  type AlertRuleInput,
  type AlertSeverity,
  AnomalyRule,
  BudgetThresholdRule,
  CircuitOpenRule,
  LargeTransactionRule,
  NewRecipientRule,
  PolicyViolationRule,
  RateSpikeRule,
} from './alert-rules.js';
export type { AlertSink } from './alert-sink.js';
export type { RaiseInput } from './raise-input.js';
export * from './sinks/index.js';
export { SpendAlerts, SpendAlertsOptions, type SpendAlertsStats } from './spend-alerts.js';
