import {
  BursarError,
  DEFAULT_SIGNATURE_TOLERANCE_MS,
  ErrorCode,
  SIGNATURE_HEADER,
  signWebhook,
  toIssues,
  ValidationError,
  verifyWebhook,
} from '@bursar/core';
import { z } from 'zod';
import { ApprovalErrorCode } from '../codes.js';
import type {
  ApprovalChannel,
  ApproverView,
  CallbackVerdict,
  CallbackVerification,
  ChannelContext,
} from '../types.js';

/** The header naming the request on webhook deliveries and polls. */
export const APPROVAL_ID_HEADER = 'bursar-approval-id';

/** Options of {@link webhookChannel}. */
export interface WebhookChannelOptions {
  /** Where requests are POSTed (http or https). */
  url: string;
  /**
   * Shared secrets (at least 16 characters each). The FIRST signs what Bursar sends; every
   * one is accepted on callbacks and poll answers, so a secret can be rotated by putting the
   * new one first and removing the old one once the receiver has switched.
   */
  secrets: readonly string[];
  /** Channel name (default `webhook`). */
  name?: string;
  /** Delivery attempts in total (default 5). */
  attempts?: number;
  /** First retry delay; doubles per attempt (default 500 ms). */
  backoffMs?: number;
  /** Largest retry delay (default 30 s). */
  maxBackoffMs?: number;
  /** Per-request timeout (default 10 s). */
  requestTimeoutMs?: number;
  /** Accepted clock difference on callbacks and poll answers, both directions (default 5 minutes). */
  toleranceMs?: number;
  /** Extra request headers (e.g. an API key of the receiving service). */
  headers?: Record<string, string>;
  /**
   * Poll for the verdict instead of (or as well as) waiting for a callback: GET `url` (a
   * string with `{id}`, or a function of the approval id) every `intervalMs` (default 5 s),
   * at most `maxAttempts` times (default 60), until a signed verdict arrives or the request
   * is resolved.
   */
  poll?: {
    url: string | ((approvalId: string) => string);
    intervalMs?: number;
    maxAttempts?: number;
  };
  /** `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
  /** How to wait between attempts (tests pass a fast one). Must reject or resolve when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
}

const httpUrl = z
  .string()
  .url()
  .refine((u) => /^https?:\/\//i.test(u), 'must be an http(s) URL');

const Options = z.strictObject({
  url: httpUrl,
  secrets: z.array(z.string().min(16, 'must be at least 16 characters')).min(1).max(10),
  name: z.string().trim().min(1).max(64).optional(),
  attempts: z.number().int().min(1).max(20).optional(),
  backoffMs: z.number().int().min(0).max(3_600_000).optional(),
  maxBackoffMs: z.number().int().min(0).max(3_600_000).optional(),
  requestTimeoutMs: z.number().int().positive().max(600_000).optional(),
  toleranceMs: z.number().int().positive().max(3_600_000).optional(),
  headers: z.record(z.string(), z.string()).optional(),
  poll: z
    .strictObject({
      url: z.union([
        z.string().refine((u) => /^https?:\/\//i.test(u), 'must be an http(s) URL'),
        z.custom<(id: string) => string>((v) => typeof v === 'function', 'must be a string or a function'),
      ]),
      intervalMs: z.number().int().positive().max(3_600_000).optional(),
      maxAttempts: z.number().int().positive().max(100_000).optional(),
    })
    .optional(),
  fetch: z.custom<typeof fetch>((v) => typeof v === 'function', 'must be a fetch function').optional(),
  sleep: z
    .custom<(ms: number, signal: AbortSignal) => Promise<void>>(
      (v) => typeof v === 'function',
      'must be a function',
    )
    .optional(),
});

/** A verdict as a callback or a poll answer carries it. */
const Verdict = z.object({
  approvalId: z.string().min(1).max(256),
  approver: z.string().trim().min(1).max(256),
  approve: z.boolean(),
  reason: z.string().max(2000).optional(),
});
const PollAnswer = z.union([
  Verdict,
  z.object({ approvalId: z.string().min(1).max(256), status: z.literal('pending') }),
]);

/** What the webhook channel POSTs (signed; the signature header is `bursar-signature`). */
export interface WebhookDelivery {
  type: 'approval.requested';
  request: ApproverView;
}

/** A webhook channel: also verifies signed callbacks for `approvals.handleWebhookCallback`. */
export interface WebhookChannel extends ApprovalChannel {
  verifyCallback(input: {
    header: string | null | undefined;
    body: string;
    now: number;
  }): CallbackVerification;
}

/**
 * POSTs each request (JSON `{ type: 'approval.requested', request }`, approver context
 * included) to a URL, signed with HMAC-SHA256 over `timestamp.body` (core's `signWebhook`,
 * header `bursar-signature`), retrying network errors, timeouts, 408, 425, 429 and 5xx with
 * exponential backoff. Other answers fail the delivery at once.
 *
 * The verdict comes back as a signed callback — the receiver POSTs
 * `{ approvalId, approver, approve, reason? }` signed with a shared secret to your app, which
 * passes the raw body and the `bursar-signature` header to `approvals.handleWebhookCallback`
 * — or by polling (`poll`): a signed answer of the same shape, or `{ approvalId, status:
 * 'pending' }`.
 *
 * @example
 * webhookChannel({ url: 'https://approvals.example.com/bursar', secrets: [process.env.BURSAR_WEBHOOK_SECRET!] });
 */
export function webhookChannel(options: WebhookChannelOptions): WebhookChannel {
  const parsed = Options.safeParse(options);
  if (!parsed.success) {
    const issues = toIssues(parsed.error.issues);
    throw new ValidationError(
      ErrorCode.INVALID_OPTIONS,
      `Invalid webhookChannel options: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  const o = parsed.data;
  const secrets = [...o.secrets];
  const name = o.name ?? 'webhook';
  const attempts = o.attempts ?? 5;
  const backoffMs = o.backoffMs ?? 500;
  const maxBackoffMs = o.maxBackoffMs ?? 30_000;
  const requestTimeoutMs = o.requestTimeoutMs ?? 10_000;
  const toleranceMs = o.toleranceMs ?? DEFAULT_SIGNATURE_TOLERANCE_MS;
  const doFetch = o.fetch ?? fetch;
  const sleep = o.sleep ?? abortableSleep;

  async function send(
    url: string,
    init: { method: 'POST' | 'GET'; body?: string; signed: string; approvalId: string },
    context: ChannelContext,
  ): Promise<Response> {
    const controller = new AbortController();
    const stop = () => controller.abort(context.signal.reason);
    context.signal.addEventListener('abort', stop, { once: true });
    const timer = setTimeout(() => controller.abort(new Error('request timed out')), requestTimeoutMs);
    try {
      return await doFetch(url, {
        method: init.method,
        headers: {
          ...o.headers,
          ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}),
          [SIGNATURE_HEADER]: signWebhook({
            secret: secrets[0]!,
            body: init.signed,
            now: context.clock.now(),
          }),
          [APPROVAL_ID_HEADER]: init.approvalId,
        },
        ...(init.body !== undefined ? { body: init.body } : {}),
        signal: controller.signal,
      });
    } finally {
      clearTimeout(timer);
      context.signal.removeEventListener('abort', stop);
    }
  }

  async function deliver(request: ApproverView, context: ChannelContext): Promise<void> {
    const body = JSON.stringify({ type: 'approval.requested', request } satisfies WebhookDelivery);
    let last = 'no attempt made';
    for (let attempt = 1; attempt <= attempts; attempt++) {
      if (context.signal.aborted) return;
      try {
        const res = await send(
          o.url,
          { method: 'POST', body, signed: body, approvalId: request.id },
          context,
        );
        await res.arrayBuffer().catch(() => undefined);
        if (res.ok) return;
        last = `HTTP ${res.status}`;
        if (!retryable(res.status)) break;
      } catch (error) {
        if (context.signal.aborted) return;
        last = error instanceof Error ? error.message : String(error);
      }
      if (attempt < attempts) {
        try {
          await sleep(Math.min(maxBackoffMs, backoffMs * 2 ** (attempt - 1)), context.signal);
        } catch {
          return; // aborted while waiting
        }
      }
    }
    throw new BursarError(
      ApprovalErrorCode.DELIVERY_FAILED,
      `Webhook delivery of approval ${request.id} to ${o.url} failed: ${last}`,
      { details: { approvalId: request.id, last } },
    );
  }

  function verify(header: string | null | undefined, body: string, now: number) {
    const checked = verifyWebhook({ secrets, header, body, now, toleranceMs });
    if (!checked.ok) return { ok: false as const, reason: checked.reason };
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      return { ok: false as const, reason: 'invalid_body' as const };
    }
    return { ok: true as const, json };
  }

  async function poll(request: ApproverView, context: ChannelContext): Promise<void> {
    const p = o.poll!;
    const url =
      typeof p.url === 'function'
        ? p.url(request.id)
        : p.url.replaceAll('{id}', encodeURIComponent(request.id));
    const interval = p.intervalMs ?? 5_000;
    const max = p.maxAttempts ?? 60;
    for (let i = 0; i < max; i++) {
      try {
        await sleep(interval, context.signal);
      } catch {
        return;
      }
      if (context.signal.aborted) return;
      let verdict: CallbackVerdict | undefined;
      try {
        const res = await send(url, { method: 'GET', signed: request.id, approvalId: request.id }, context);
        const text = await res.text();
        if (!res.ok) continue;
        const checked = verify(res.headers.get(SIGNATURE_HEADER), text, context.clock.now());
        if (!checked.ok) continue; // unsigned or forged answers are ignored
        const answer = PollAnswer.safeParse(checked.json);
        if (!answer.success || answer.data.approvalId !== request.id || !('approve' in answer.data)) continue;
        verdict = answer.data;
      } catch {
        if (context.signal.aborted) return;
        continue; // a failed poll is retried at the next interval
      }
      await context.vote({
        approver: verdict.approver,
        approve: verdict.approve,
        ...(verdict.reason !== undefined ? { reason: verdict.reason } : {}),
      });
      return;
    }
  }

  return {
    name,
    async notify(request, context) {
      await deliver(request, context);
      if (o.poll && !context.signal.aborted) await poll(request, context);
    },
    verifyCallback({ header, body, now }) {
      const checked = verify(header, body, now);
      if (!checked.ok) return checked;
      const verdict = Verdict.safeParse(checked.json);
      if (!verdict.success) return { ok: false, reason: 'invalid_body' };
      const v = verdict.data;
      return {
        ok: true,
        verdict: {
          approvalId: v.approvalId,
          approver: v.approver,
          approve: v.approve,
          ...(v.reason !== undefined ? { reason: v.reason } : {}),
        },
      };
    },
  };
}

function retryable(status: number): boolean {
  return status === 408 || status === 425 || status === 429 || status >= 500;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
