export {
  Intent,
  type IntentInput,
  intentHash,
  intentToJSON,
  PAYMENT_ACTION,
  type ParsedIntent,
  type ParseIntentOptions,
  Protocol,
  parseIntent,
} from './intent.js';
