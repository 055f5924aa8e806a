export {
  type ApprovalHandler,
  type HandlerChannelOptions,
  type HandlerVerdict,
  handlerChannel,
} from './handler-channel.js';
export { describeRequest, type TerminalChannelOptions, terminalChannel } from './terminal-channel.js';
export {
  APPROVAL_ID_HEADER,
  type WebhookChannel,
  type WebhookChannelOptions,
  type WebhookDelivery,
  webhookChannel,
} from './webhook-channel.js';
