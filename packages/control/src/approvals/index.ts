export {
  DEFAULT_SIGNATURE_TOLERANCE_MS,
  SIGNATURE_HEADER,
  type SignOptions,
  signWebhook,
  type VerifyOptions,
  type VerifyResult,
  verifyWebhook,
} from '@bursar/core';
export {
  ApprovalManager,
  type VoteInput,
  type WaitForOptions,
  type WebhookCallbackResult,
} from './approval-manager.js';
export {
  APPROVAL_ID_HEADER,
  type ApprovalHandler,
  describeRequest,
  type HandlerChannelOptions,
  type HandlerVerdict,
  handlerChannel,
  type TerminalChannelOptions,
  terminalChannel,
  type WebhookChannel,
  type WebhookChannelOptions,
  type WebhookDelivery,
  webhookChannel,
} from './channels/index.js';
export { ApprovalErrorCode } from './codes.js';
export { budgetContext } from './context.js';
export {
  ApprovalLevel,
  type ApprovalLevelInput,
  type ApprovalManagerOptions,
  ApprovalRouting,
  type ApprovalRoutingInput,
} from './options.js';
export type {
  ApprovalChannel,
  ApprovalEvent,
  ApprovalEventMap,
  ApprovalResolution,
  ApprovalStatus,
  ApprovalView,
  ApprovalVote,
  ApproverView,
  CallbackFailure,
  CallbackVerdict,
  CallbackVerification,
  ChannelContext,
  ChannelVote,
  ContextProvider,
  ContextRequest,
} from './types.js';
