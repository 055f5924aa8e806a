export { EventBus, type HasListenerError } from './event-bus.js';
export type {
  AlertEvent,
  ApprovalRequestedEvent,
  ApprovalResolvedEvent,
  BursarEventMap,
  BursarEventName,
  CircuitStateChangedEvent,
  ControlChangedEvent,
  HoldEvent,
  ListenerErrorEvent,
  PaymentFacts,
  PaymentFailedEvent,
  PaymentSettledEvent,
} from './event-map.js';
