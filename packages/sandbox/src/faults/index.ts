export { FaultPlan, Latency, MAX_INJECTED_LATENCY_MS, Probability } from './fault-plan.js';
export { Timers } from './timers.js';
