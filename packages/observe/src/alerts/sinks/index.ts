export { callbackSink } from './callback-sink.js';
export { type AlertLogger, consoleSink } from './console-sink.js';
export { ALERT_ID_HEADER, WebhookSinkOptions, webhookSink } from './webhook-sink.js';
