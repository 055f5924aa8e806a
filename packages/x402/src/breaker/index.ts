export {
  CircuitBreaker,
  CircuitBreakerOptions,
  type CircuitPermit,
  type CircuitSnapshot,
  type CircuitState,
  FailureRateOptions,
} from './circuit-breaker.js';
