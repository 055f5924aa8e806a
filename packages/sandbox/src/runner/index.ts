export type { AcpCheckoutOptions, ScenarioAcp, ScenarioAcpOptions } from './acp-rail.js';
export type { Ap2PayOptions, ScenarioAp2, ScenarioAp2Options } from './ap2-rail.js';
export { SCENARIO_START } from './context.js';
export { checkExpectation } from './expectations.js';
export type { GovernedResult, RailAnswer } from './governed.js';
export { headlineReason, type IntentFacts, lineOutcome, Recorder, type RecorderOptions } from './recorder.js';
export {
  DEFAULT_SEED,
  type RunScenarioOptions,
  type RunScenariosOptions,
  runScenario,
  runScenarios,
} from './run-scenarios.js';
export {
  DEFAULT_ALERT_RULES,
  defineScenario,
  type Scenario,
  type ScenarioContext,
  type ScenarioSetup,
} from './scenario.js';
export type {
  AlertLine,
  CurrencyTotals,
  HoldFate,
  LineOutcome,
  PaymentLine,
  RunReport,
  ScenarioExpectation,
  ScenarioOutcome,
  ScenarioResult,
} from './types.js';
export { LINE_OUTCOMES } from './types.js';
export {
  describePurchase,
  type ScenarioX402,
  type ScenarioX402Options,
  type X402Agent,
} from './x402-rail.js';
