import {
  type AlertEvent,
  BursarError,
  type Clock,
  SIGNATURE_HEADER,
  signWebhook,
  systemClock,
} from '@bursar/core';
import { z } from 'zod';
import { ObserveErrorCode } from '../../errors/index.js';
import { parseOptions } from '../../internal/index.js';
import type { AlertSink } from '../alert-sink.js';

/** Header carrying the alert id, so a receiver can drop a redelivered alert. */
export const ALERT_ID_HEADER = 'bursar-alert-id';

/** Options of {@link webhookSink}. */
export const WebhookSinkOptions = z.strictObject({
  /** Where alerts are POSTed (http or https). */
  url: z.url({ protocol: /^https?$/ }),
  /** Signing secret (at least 16 characters); the receiver verifies with core's `verifyWebhook`. */
  secret: z.string().min(16, 'must be at least 16 characters'),
  clock: z
    .custom<Clock>((v) => typeof (v as Clock | undefined)?.now === 'function', { message: 'must be a Clock' })
    .optional(),
  /** The fetch to use (default: the global one). */
  fetch: z.custom<typeof fetch>((v) => typeof v === 'function', { message: 'must be a function' }).optional(),
  /** Per-attempt timeout (default 5 s). */
  timeoutMs: z.number().int().positive().max(120_000).default(5000),
  /** Retries after the first attempt (default 3) for network errors, timeouts, 408, 429 and 5xx. */
  retries: z.number().int().min(0).max(10).default(3),
  /** First back-off; doubles per retry (default 500 ms). A `Retry-After` in seconds is honoured up to the max. */
  backoffMs: z.number().int().min(0).max(60_000).default(500),
  /** Longest back-off (default 10 s). */
  maxBackoffMs: z.number().int().min(0).max(300_000).default(10_000),
  /** Extra request headers (e.g. a bearer token of the receiver). */
  headers: z.record(z.string(), z.string()).optional(),
  name: z.string().min(1).default('webhook'),
});
/** What callers pass to {@link webhookSink}. */
export type WebhookSinkOptions = z.input<typeof WebhookSinkOptions>;

/**
 * POSTs each alert as JSON `{ "type": "alert.raised", "alert": … }`, signed with HMAC-SHA256
 * over `${timestamp}.${body}` in the `bursar-signature` header (`t=<unix s>,v1=<hex>`), the
 * alert id in `bursar-alert-id`. Retries with exponential back-off; each attempt is signed
 * afresh. Back-off timers are `unref()`ed, and `close()` cancels them.
 *
 * @example
 * const sink = webhookSink({ url: 'https://ops.example.com/bursar', secret: process.env.ALERT_SECRET! });
 * // receiver: verifyWebhook({ secrets: [secret], header: req.headers['bursar-signature'], body: rawBody, now: Date.now() })
 */
export function webhookSink(options: WebhookSinkOptions): AlertSink {
  const o = parseOptions(WebhookSinkOptions, options, 'webhookSink');
  const clock = o.clock ?? systemClock;
  const doFetch = o.fetch ?? globalThis.fetch;
  const closed = new AbortController();

  const sleep = (ms: number) =>
    new Promise<void>((resolve, reject) => {
      if (closed.signal.aborted) {
        reject(closed.signal.reason);
        return;
      }
      const onAbort = () => {
        clearTimeout(timer);
        reject(closed.signal.reason);
      };
      const timer = setTimeout(() => {
        closed.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      timer.unref?.();
      closed.signal.addEventListener('abort', onAbort, { once: true });
    });

  return {
    name: o.name,
    async send(alert: AlertEvent) {
      const body = JSON.stringify({ type: 'alert.raised', alert });
      let lastProblem = 'not attempted';
      let lastStatus: number | undefined;
      for (let attempt = 0; attempt <= o.retries; attempt++) {
        if (closed.signal.aborted) break;
        let wait = Math.min(o.maxBackoffMs, o.backoffMs * 2 ** attempt);
        // One signal for "timed out or closed" (AbortSignal.any needs Node ≥ 20.3).
        const attemptAbort = new AbortController();
        const onClose = () => attemptAbort.abort(closed.signal.reason);
        closed.signal.addEventListener('abort', onClose, { once: true });
        const timeout = setTimeout(
          () => attemptAbort.abort(new Error(`timed out after ${o.timeoutMs} ms`)),
          o.timeoutMs,
        );
        timeout.unref?.();
        try {
          const response = await doFetch(o.url, {
            method: 'POST',
            body,
            headers: {
              ...o.headers,
              'content-type': 'application/json',
              [SIGNATURE_HEADER]: signWebhook({ secret: o.secret, body, now: clock.now() }),
              [ALERT_ID_HEADER]: alert.alertId,
            },
            signal: attemptAbort.signal,
          });
          // Drain the body so the connection can be reused.
          await response.arrayBuffer().catch(() => undefined);
          if (response.ok) return;
          lastStatus = response.status;
          lastProblem = `HTTP ${response.status}`;
          const retryable = response.status === 408 || response.status === 429 || response.status >= 500;
          if (!retryable) break;
          const retryAfter = Number(response.headers.get('retry-after'));
          if (Number.isFinite(retryAfter) && retryAfter > 0)
            wait = Math.min(o.maxBackoffMs, retryAfter * 1000);
        } catch (error) {
          const reason = attemptAbort.signal.aborted ? attemptAbort.signal.reason : error;
          lastProblem = reason instanceof Error ? reason.message : String(reason);
        } finally {
          clearTimeout(timeout);
          closed.signal.removeEventListener('abort', onClose);
        }
        if (attempt < o.retries) {
          try {
            await sleep(wait);
          } catch {
            break;
          }
        }
      }
      throw new BursarError(
        ObserveErrorCode.WEBHOOK_DELIVERY,
        `Alert ${alert.alertId} was not delivered to ${new URL(o.url).origin}: ${
          closed.signal.aborted ? 'sink closed' : lastProblem
        }`,
        { details: { alertId: alert.alertId, status: lastStatus, problem: lastProblem } },
      );
    },
    close() {
      closed.abort(new Error('webhook sink closed'));
    },
  };
}
