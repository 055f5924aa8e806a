import { type Clock, systemClock } from '@bursar/core';
import type { FacilitatorClient } from '@x402/core/server';
import {
  FacilitatorTimeoutError,
  type PaymentPayload,
  type PaymentRequirements,
  type SettleResponse,
  type SupportedKind,
  type SupportedResponse,
  type VerifyResponse,
} from '@x402/core/types';
import { z } from 'zod';
import { CircuitBreaker, type CircuitSnapshot, FailureRateOptions } from '../breaker/circuit-breaker.js';
import { DeadlineQueue } from '../internal/deadline-queue.js';
import { ObjectTag } from '../internal/object-tag.js';
import { clockSchema, eventSinkSchema, fn, parseOptions } from '../internal/options.js';
import {
  classifyFacilitatorError,
  classifyFacilitatorResult,
  defaultIsFacilitatorFaultReason,
  type FacilitatorOperation,
} from './classify.js';
import { FacilitatorUnavailableError } from './facilitator-unavailable-error.js';
import { tagFacilitatorResult } from './result-origin.js';

const ms = z.number().int().positive().max(2_147_483_647);

/** Per-facilitator breaker settings (every facilitator gets its own breaker with these). */
export const FacilitatorBreakerOptions = z.strictObject({
  failureThreshold: z.number().int().positive().default(5),
  failureRate: FailureRateOptions.optional(),
  resetTimeoutMs: ms.default(30_000),
  halfOpenMaxProbes: z.number().int().positive().default(1),
  successThreshold: z.number().int().positive().default(1),
});
export type FacilitatorBreakerOptions = z.input<typeof FacilitatorBreakerOptions>;

/** Options of {@link guardFacilitator}. */
export const GuardFacilitatorOptions = z.strictObject({
  /** Names for events and health, one per client (default: the client's `url`, else `facilitator-N`). */
  names: z.array(z.string().min(1).max(256)).optional(),
  breaker: FacilitatorBreakerOptions.default({
    failureThreshold: 5,
    resetTimeoutMs: 30_000,
    halfOpenMaxProbes: 1,
    successThreshold: 1,
  }),
  /**
   * Deadline per call, in ms: one number for all, or per operation. Defaults: verify 10 000,
   * settle 60 000, supported 10 000. A timed-out settle is an unknown outcome: never retried.
   */
  timeoutMs: z
    .union([ms, z.strictObject({ verify: ms.optional(), settle: ms.optional(), supported: ms.optional() })])
    .optional(),
  /** Reason text that blames the facilitator rather than the payment (default: a built-in list). */
  isFacilitatorFault: fn<(reason: string | undefined) => boolean>().optional(),
  clock: clockSchema.optional(),
  /** Receives `circuit.state_changed` events. */
  events: eventSinkSchema.optional(),
});
export type GuardFacilitatorOptions = z.input<typeof GuardFacilitatorOptions>;

/** One facilitator behind a guard. */
export interface GuardedFacilitatorEntry {
  readonly name: string;
  readonly client: FacilitatorClient;
  readonly breaker: CircuitBreaker;
}

/** A complete `FacilitatorClient` with per-facilitator circuit breakers, timeouts and failover. */
export interface GuardedFacilitator extends FacilitatorClient {
  readonly facilitators: readonly GuardedFacilitatorEntry[];
  /** Breaker state of every facilitator, in order. */
  health(): CircuitSnapshot[];
}

interface Slot extends GuardedFacilitatorEntry {
  index: number;
  /** Kinds from the last successful `getSupported`, or undefined when never known. */
  kinds?: SupportedKind[];
}

function nameOf(client: FacilitatorClient, index: number): string {
  const url = (client as { url?: unknown }).url;
  return typeof url === 'string' && url.length > 0 ? url : `facilitator-${index}`;
}

function kindMatches(kind: SupportedKind, version: number, network: string, scheme: string): boolean {
  if (kind.x402Version !== version || kind.scheme !== scheme) return false;
  if (kind.network === network) return true;
  return kind.network.endsWith(':*') && network.startsWith(kind.network.slice(0, -1));
}

function isFacilitatorClient(value: unknown): value is FacilitatorClient {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as FacilitatorClient).verify === 'function' &&
    typeof (value as FacilitatorClient).settle === 'function' &&
    typeof (value as FacilitatorClient).getSupported === 'function'
  );
}

/**
 * Wraps one or more facilitator clients into one complete `FacilitatorClient` (`verify`,
 * `settle`, `getSupported`) for `new x402ResourceServer(...)`:
 *
 * - a circuit breaker per facilitator (consecutive failures, optional failure rate, half-open
 *   probes, `circuit.state_changed` events). A `success: false` / `isValid: false` answer counts
 *   as a failure only when its reason blames the facilitator; a payment's own invalidity does not;
 * - a deadline per call;
 * - verify fails over, in order, to the next healthy facilitator that supports the payment's kind;
 * - settle goes to the facilitator that verified the payment when it can, and moves on to the
 *   next one ONLY when the request was provably never sent (circuit open, connection refused).
 *   A settle whose outcome is unknown (timeout, lost connection, `settlement_pending`) is never
 *   retried anywhere: the error goes back to the resource server (and the seller guard keeps the
 *   hold for reconciliation);
 * - `getSupported` merges what every reachable facilitator supports.
 *
 * @example
 * const facilitator = guardFacilitator(
 *   [new HTTPFacilitatorClient({ url: primaryUrl }), new HTTPFacilitatorClient({ url: backupUrl })],
 *   { breaker: { failureThreshold: 3, resetTimeoutMs: 15_000 }, events: engine.events },
 * );
 * const server = new x402ResourceServer(facilitator);
 */
export function guardFacilitator(
  clients: FacilitatorClient | readonly FacilitatorClient[],
  options: GuardFacilitatorOptions = {},
): GuardedFacilitator {
  const list = Array.isArray(clients) ? clients : [clients];
  const o = parseOptions(GuardFacilitatorOptions, options, 'guardFacilitator');
  const bad = list.findIndex((c) => !isFacilitatorClient(c));
  if (list.length === 0 || bad >= 0) {
    parseOptions(
      z.strictObject({
        clients: z
          .array(z.custom(isFacilitatorClient, 'must have verify(), settle() and getSupported()'))
          .min(1),
      }),
      { clients: list },
      'guardFacilitator',
    );
  }
  if (o.names && o.names.length !== list.length) {
    parseOptions(
      z.strictObject({ names: z.array(z.string()).length(list.length) }),
      { names: o.names },
      'guardFacilitator',
    );
  }
  const clock: Clock = o.clock ?? systemClock;
  const isFault = o.isFacilitatorFault ?? defaultIsFacilitatorFaultReason;
  const t =
    typeof o.timeoutMs === 'number'
      ? { verify: o.timeoutMs, settle: o.timeoutMs, supported: o.timeoutMs }
      : o.timeoutMs;
  const timeouts = {
    verify: t?.verify ?? 10_000,
    settle: t?.settle ?? 60_000,
    supported: t?.supported ?? 10_000,
  };
  const seen = new Set<string>();
  const slots: Slot[] = list.map((client, index) => {
    let name = o.names?.[index] ?? nameOf(client, index);
    if (seen.has(name)) name = `${name}#${index}`;
    seen.add(name);
    const breaker = new CircuitBreaker({
      name,
      ...o.breaker,
      clock,
      ...(o.events ? { events: o.events } : {}),
    });
    return { name, client, breaker, index };
  });
  // The facilitator that verified a payload settles it (best effort; keyed by the payload object).
  const verifiedBy = new ObjectTag<Slot>();

  function candidates(version: number, network: string, scheme: string): readonly Slot[] {
    if (slots.length === 1) return slots; // it gets every call, supported or not
    const supporting: Slot[] = [];
    const unknown: Slot[] = [];
    for (const s of slots) {
      if (s.kinds === undefined) unknown.push(s);
      else if (s.kinds.some((k) => kindMatches(k, version, network, scheme))) supporting.push(s);
    }
    if (supporting.length === 0) return unknown.length > 0 ? unknown : slots;
    for (const s of unknown) supporting.push(s);
    return supporting;
  }

  function unavailable(operation: FacilitatorOperation, tried: readonly Slot[]): FacilitatorUnavailableError {
    const retryAt = tried
      .map((s) => s.breaker.snapshot().retryAt)
      .filter((x): x is number => x !== undefined)
      .sort((a, b) => a - b)[0];
    return new FacilitatorUnavailableError(
      operation,
      tried.map((s) => s.name),
      retryAt,
    );
  }

  // One deadline queue (and so one timer) per operation: every call of it has the same duration.
  const deadlines = {
    verify: new DeadlineQueue(timeouts.verify, () => new FacilitatorTimeoutError('verify', timeouts.verify)),
    settle: new DeadlineQueue(timeouts.settle, () => new FacilitatorTimeoutError('settle', timeouts.settle)),
    supported: new DeadlineQueue(
      timeouts.supported,
      () => new FacilitatorTimeoutError('supported', timeouts.supported),
    ),
  };
  // The facilitator that verified a payload matters only when there is more than one.
  const sticky = slots.length > 1;

  async function verify(payload: PaymentPayload, requirements: PaymentRequirements): Promise<VerifyResponse> {
    const order = candidates(payload.x402Version, requirements.network, requirements.scheme);
    let lastError: unknown;
    let faultAnswer: { result: VerifyResponse; slot: Slot } | undefined;
    let skipped: Slot[] | undefined;
    // Indexed loops: an iterator would be kept across the await (one more object per call).
    for (let i = 0; i < order.length; i++) {
      const slot = order[i]!;
      const permit = slot.breaker.tryAcquire();
      if (!permit) {
        skipped ??= [];
        skipped.push(slot);
        continue;
      }
      let result: VerifyResponse;
      try {
        result = await deadlines.verify.run(slot.client.verify(payload, requirements));
      } catch (error) {
        const c = classifyFacilitatorError('verify', error, isFault);
        if (c.facilitatorFault) permit.failure(c.cause);
        else permit.success();
        if (!c.retryable) throw error;
        lastError = error;
        continue;
      }
      const fault = classifyFacilitatorResult('verify', result, isFault);
      if (fault) {
        permit.failure(fault.cause);
        faultAnswer ??= { result, slot };
        continue;
      }
      permit.success();
      tagFacilitatorResult(result, slot.name);
      if (sticky) verifiedBy.set(payload, slot);
      return result;
    }
    if (faultAnswer) {
      tagFacilitatorResult(faultAnswer.result, faultAnswer.slot.name);
      return faultAnswer.result;
    }
    throw lastError ?? unavailable('verify', skipped ?? []);
  }

  async function settle(payload: PaymentPayload, requirements: PaymentRequirements): Promise<SettleResponse> {
    const routed = candidates(payload.x402Version, requirements.network, requirements.scheme);
    const verifier = sticky ? verifiedBy.get(payload) : undefined;
    const order =
      verifier === undefined || verifier === routed[0]
        ? routed
        : [verifier, ...routed.filter((s) => s !== verifier)];
    let lastError: unknown;
    let skipped: Slot[] | undefined;
    for (let i = 0; i < order.length; i++) {
      const slot = order[i]!;
      const permit = slot.breaker.tryAcquire();
      if (!permit) {
        skipped ??= [];
        skipped.push(slot);
        continue;
      }
      let result: SettleResponse;
      try {
        result = await deadlines.settle.run(slot.client.settle(payload, requirements));
      } catch (error) {
        const c = classifyFacilitatorError('settle', error, isFault);
        if (c.facilitatorFault) permit.failure(c.cause);
        else permit.success();
        // Only a request that provably never left may go to another facilitator.
        if (c.delivery !== 'not_sent') throw error;
        lastError = error;
        continue;
      }
      const fault = classifyFacilitatorResult('settle', result, isFault);
      if (fault?.facilitatorFault) permit.failure(fault.cause);
      else permit.success();
      tagFacilitatorResult(result, slot.name);
      return result;
    }
    throw lastError ?? unavailable('settle', skipped ?? []);
  }

  async function getSupported(): Promise<SupportedResponse> {
    const outcomes = await Promise.all(
      slots.map(async (slot) => {
        const permit = slot.breaker.tryAcquire();
        if (!permit) return { slot, error: unavailable('supported', [slot]) as unknown };
        try {
          const value = await deadlines.supported.run(slot.client.getSupported());
          permit.success();
          slot.kinds = value.kinds.map((k) => ({ ...k }));
          return { slot, value };
        } catch (error) {
          const c = classifyFacilitatorError('supported', error, isFault);
          if (c.facilitatorFault) permit.failure(c.cause);
          else permit.success();
          return { slot, error };
        }
      }),
    );
    const ok = outcomes.filter((x): x is { slot: Slot; value: SupportedResponse } => 'value' in x);
    if (ok.length === 0) throw (outcomes[0] as { error: unknown }).error;
    const kinds: SupportedKind[] = [];
    const kindKeys = new Set<string>();
    const extensions = new Set<string>();
    const signers: Record<string, string[]> = {};
    for (const { value } of ok) {
      for (const k of value.kinds) {
        const key = `${k.x402Version}|${k.scheme}|${k.network}`;
        if (kindKeys.has(key)) continue;
        kindKeys.add(key);
        kinds.push(k);
      }
      for (const e of value.extensions ?? []) extensions.add(e);
      for (const [family, addresses] of Object.entries(value.signers ?? {})) {
        const merged = new Set([...(signers[family] ?? []), ...addresses]);
        signers[family] = [...merged];
      }
    }
    return { kinds, extensions: [...extensions], signers };
  }

  return {
    verify,
    settle,
    getSupported,
    facilitators: slots.map(({ name, client, breaker }) => ({ name, client, breaker })),
    health: () => slots.map((s) => s.breaker.snapshot()),
  };
}
