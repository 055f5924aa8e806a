export {
  classifyFacilitatorError,
  classifyFacilitatorResult,
  type Delivery,
  defaultIsFacilitatorFaultReason,
  type FacilitatorOperation,
  type FailureClass,
  isAmbiguousSettleFailure,
} from './classify.js';
export { FacilitatorUnavailableError } from './facilitator-unavailable-error.js';
export {
  FacilitatorBreakerOptions,
  type GuardedFacilitator,
  type GuardedFacilitatorEntry,
  GuardFacilitatorOptions,
  guardFacilitator,
} from './guard-facilitator.js';
export { facilitatorResultOrigin } from './result-origin.js';
