import { ErrorCode, toIssues, ValidationError } from '@bursar/core';
import { z } from 'zod';
import type { ApprovalChannel, ApproverView } from '../types.js';

/** What a handler decides. Returning `undefined` abstains (the request stays pending). */
export interface HandlerVerdict {
  approve: boolean;
  /** Who decided (default: the channel's `approver`). */
  approver?: string;
  reason?: string;
}

/** A programmatic approver: a policy bot, a rules service, a test. */
export type ApprovalHandler = (
  request: ApproverView,
  tools: { signal: AbortSignal },
) => HandlerVerdict | undefined | Promise<HandlerVerdict | undefined>;

/** Options of {@link handlerChannel}. */
export interface HandlerChannelOptions {
  handler: ApprovalHandler;
  /** The approver recorded when the verdict names none (default: the channel name). */
  approver?: string;
  /** Channel name (default `handler`). */
  name?: string;
}

const Options = z.strictObject({
  handler: z.custom<ApprovalHandler>((v) => typeof v === 'function', 'must be a function'),
  approver: z.string().trim().min(1).max(256).optional(),
  name: z.string().trim().min(1).max(64).optional(),
});

/**
 * A channel that hands each request (with approver context) to an async function and votes
 * with its verdict. A handler that throws is a channel failure.
 *
 * @example
 * handlerChannel({
 *   approver: 'spend-bot',
 *   handler: async (req) => ({ approve: req.recipient?.startsWith('https://api.example.com/') === true }),
 * });
 */
export function handlerChannel(options: HandlerChannelOptions): ApprovalChannel {
  const parsed = Options.safeParse(options);
  if (!parsed.success) {
    const issues = toIssues(parsed.error.issues);
    throw new ValidationError(
      ErrorCode.INVALID_OPTIONS,
      `Invalid handlerChannel options: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  const { handler, approver, name = 'handler' } = parsed.data;
  return {
    name,
    async notify(request, context) {
      const verdict = await handler(request, { signal: context.signal });
      if (verdict === undefined || context.signal.aborted) return;
      await context.vote({
        approver: verdict.approver ?? approver ?? name,
        approve: verdict.approve,
        ...(verdict.reason !== undefined ? { reason: verdict.reason } : {}),
      });
    },
  };
}
