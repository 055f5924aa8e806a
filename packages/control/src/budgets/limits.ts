import {
  type Asset,
  type AssetRegistry,
  type CounterCheck,
  type CounterUsage,
  formatMinor,
  MAX_MINOR_UNITS,
  Money,
  type Reason,
} from '@bursar/core';
import type { Budget, RateLimit, Scope } from '../policy/schema.js';
import {
  type CompileContext,
  type CompiledConditions,
  compileConditions,
  type PolicyScope,
  runConditions,
} from '../rules/conditions.js';
import type { PolicyVerdict } from '../rules/evaluate-policy.js';
import { FALSE } from '../rules/tri.js';
import { CalendarWindow } from '../time/index.js';
import { parseWindow, rollingGranularity, type WindowSpec, windowLabel } from './window.js';

/** A budget or rate limit, compiled once at load. */
export interface CompiledLimit {
  policyId: string;
  id: string;
  source: 'budget' | 'rate_limit';
  kind: 'amount' | 'count';
  scope: Scope;
  group: string | undefined;
  when: CompiledConditions | undefined;
  window: WindowSpec;
  windowLabel: string;
  zone: string;
  /** Minor units (amount) or a count. */
  limit: bigint;
  asset: Asset | undefined;
  /** Upper-cased currency of an amount budget. */
  currency: string | undefined;
  /** `<policy>/<id>`: the limit id in counter checks. */
  checkId: string;
  /** Every counter key of this limit starts with this. */
  keyPrefix: string;
  /** The limit as a decimal string (amount) or a count, formatted once. */
  limitText: string;
  /** Zero in the limit's unit (`0.000000` for USDC): spent and held are often nothing. */
  zeroText: string;
  /** ` USDC` after an amount in a budget's messages; empty for a rate limit. */
  unit: string;
  /** The end of the message of a check that passes, for the compiled limit. */
  withinTail: string;
  /** The calendar window (hourly … monthly) in the limit's zone; undefined for other windows. */
  calendar: CalendarWindow | undefined;
  /**
   * Per scope value (agent id, recipient …): its labels, message prefix and counter keys,
   * built once; the keys are rebuilt only when the bucket changes, so a decision inside a
   * bucket builds no string, and the store hashes the same string objects again.
   */
  slots: Map<string, ScopeSlot>;
}

/** What one scope value of a limit needs on every decision, made once. */
export interface ScopeSlot {
  /** `agent:bot`, as reasons and budget status report it. */
  label: string;
  /** `a:bot`, the scope's part of counter keys. */
  keyPart: string;
  /** `Budget daily-cap (daily, agent:bot): `, how reason messages begin. */
  prefix: string;
  /** The bucket `key` and `sumKeys` are for (NaN before the first decision). */
  bucket: number;
  key: string;
  sumKeys: readonly string[];
  /** Rolling windows: start of the oldest bucket summed. */
  oldest: number;
  /**
   * The last check planned in this bucket (frozen). Reused while the bucket and the amount
   * stay the same: a rate limit always counts 1, and fixed-price payments repeat amounts.
   */
  planned: PlannedCheck | undefined;
}

/** Compiles a policy's budgets and rate limits. */
export function compileLimits(
  policyId: string,
  budgets: readonly Budget[],
  rateLimits: readonly RateLimit[],
  ctx: CompileContext & { assets: AssetRegistry },
): CompiledLimit[] {
  const out: CompiledLimit[] = [];
  budgets.forEach((b, i) => {
    const path = `budgets.${i}`;
    const asset = ctx.assets.get(b.currency);
    if (!asset) {
      ctx.issues.push({ path: `${path}.currency`, message: `unknown currency "${b.currency}"` });
      return;
    }
    let limit: bigint;
    try {
      limit = Money.parse(b.maxAmount, asset).minor;
    } catch (error) {
      ctx.issues.push({ path: `${path}.maxAmount`, message: (error as Error).message });
      return;
    }
    out.push(makeLimit(policyId, b, 'budget', 'amount', limit, asset, ctx, path));
  });
  rateLimits.forEach((r, i) => {
    out.push(
      makeLimit(policyId, r, 'rate_limit', 'count', BigInt(r.maxCount), undefined, ctx, `rateLimits.${i}`),
    );
  });
  return out;
}

function makeLimit(
  policyId: string,
  l: Budget | RateLimit,
  source: CompiledLimit['source'],
  kind: CompiledLimit['kind'],
  limit: bigint,
  asset: Asset | undefined,
  ctx: CompileContext,
  path: string,
): CompiledLimit {
  const window = parseWindow(l.window)!;
  const label = windowLabel(window);
  const currency = asset?.symbol.toUpperCase();
  const limitText = asset ? Money.fromMinor(limit, asset).toDecimalString() : limit.toString();
  const unit = asset ? ` ${asset.symbol}` : '';
  return {
    policyId,
    id: l.id!,
    source,
    kind,
    scope: l.scope,
    group: l.group,
    // Limits restrict: when in doubt they count.
    when: l.when ? compileConditions(l.when, ctx, `${path}.when`, { restrictive: true }) : undefined,
    window,
    windowLabel: label,
    zone: ctx.timeZone,
    limit,
    asset,
    currency,
    checkId: `${policyId}/${l.id}`,
    keyPrefix: `bursar|${source === 'budget' ? 'b' : 'r'}|${policyId}|${l.id}|${currency ?? 'n'}|${label}`,
    limitText,
    zeroText: asset ? formatMinor(0n, asset.decimals) : '0',
    unit,
    withinTail: `${unit} of ${limitText}${unit} left after this intent`,
    calendar: isCalendar(window) ? new CalendarWindow(ctx.timeZone, window.kind) : undefined,
    slots: new Map(),
  };
}

function isCalendar(w: WindowSpec): w is { kind: 'hourly' | 'daily' | 'weekly' | 'monthly' } {
  return w.kind === 'hourly' || w.kind === 'daily' || w.kind === 'weekly' || w.kind === 'monthly';
}

/** One counter an intent touches: the check to hold, and what reports need. */
export interface PlannedCheck {
  limit: CompiledLimit;
  slot: ScopeSlot;
  scopeLabel: string;
  check: CounterCheck;
  windowStart: number | undefined;
  windowEnd: number | undefined;
  /** For rolling windows: start of the oldest bucket summed. */
  oldestBucket: number | undefined;
}

const SLOTS_PER_LIMIT = 4096;

/**
 * The slot of one scope value of a limit. `value` is what the limit's scope reads (agent
 * id, group, normalized recipient, action; unused for `global`); `recipient` is the second
 * value of an `agent_recipient` scope.
 */
export function scopeSlot(limit: CompiledLimit, value: string, recipient = ''): ScopeSlot {
  const id = limit.scope === 'agent_recipient' ? `${value.length}:${value}${recipient}` : value;
  let slot = limit.slots.get(id);
  if (slot === undefined) {
    const [label, keyPart] = scopeLabels(limit, value, recipient);
    const kind = limit.source === 'budget' ? 'Budget' : 'Rate limit';
    slot = {
      label,
      keyPart,
      prefix: `${kind} ${limit.id} (${limit.windowLabel}, ${label}): `,
      bucket: Number.NaN,
      key: '',
      sumKeys: [],
      oldest: 0,
      planned: undefined,
    };
    if (limit.slots.size >= SLOTS_PER_LIMIT) limit.slots.clear();
    limit.slots.set(id, slot);
  }
  return slot;
}

function scopeLabels(limit: CompiledLimit, v: string, r: string): [string, string] {
  switch (limit.scope) {
    case 'global':
      return ['global', 'g'];
    case 'agent':
      return [`agent:${v}`, `a:${v}`];
    case 'agent_group':
      return [`group:${v}`, `g:${v}`];
    case 'recipient':
      return [`recipient:${v}`, `r:${v}`];
    case 'action':
      return [`action:${v}`, `x:${v}`];
    case 'agent_recipient':
      return [`agent:${v},recipient:${r}`, `ar:${v.length}:${v}${r}`];
  }
}

/**
 * Plans the counter checks of every limit of the decided policies that counts this intent
 * into `planned`, and adds the reasons of per-transaction limits (a comparison, no counter)
 * to `reasons`. False when a per-transaction limit denies.
 */
export function planLimits(
  verdicts: readonly PolicyVerdict[],
  amount: bigint,
  now: number,
  reasons: Reason[],
  planned: PlannedCheck[],
): boolean {
  let ok = true;
  for (const v of verdicts) {
    for (const limit of v.policy.limits) {
      if (!limitApplies(limit, v.scope)) continue;
      if (limit.window.kind === 'transaction') {
        const r = transactionReason(limit, amount);
        reasons.push(r);
        if (r.outcome === 'deny') ok = false;
        continue;
      }
      planChecks(limit, v.scope, amount, now, planned);
    }
  }
  return ok;
}

/**
 * Appends the checks of a limit for every scope the intent falls in (none: it does not
 * apply), as {@link planCheck} plans them.
 */
export function planChecks(
  limit: CompiledLimit,
  scope: PolicyScope,
  amount: bigint,
  now: number,
  out: PlannedCheck[],
): void {
  const intent = scope.facts.intent;
  switch (limit.scope) {
    case 'global':
      out.push(planCheck(limit, scopeSlot(limit, ''), amount, now));
      return;
    case 'agent':
      out.push(planCheck(limit, scopeSlot(limit, intent.agentId), amount, now));
      return;
    case 'agent_group': {
      const groups = scope.agentGroups;
      if (limit.group === undefined) {
        for (const g of groups) out.push(planCheck(limit, scopeSlot(limit, g), amount, now));
      } else if (groups.includes(limit.group)) {
        out.push(planCheck(limit, scopeSlot(limit, limit.group), amount, now));
      }
      return;
    }
    case 'recipient':
      out.push(planCheck(limit, scopeSlot(limit, scope.facts.recipient ?? ''), amount, now));
      return;
    case 'action':
      out.push(planCheck(limit, scopeSlot(limit, intent.action), amount, now));
      return;
    case 'agent_recipient':
      out.push(planCheck(limit, scopeSlot(limit, intent.agentId, scope.facts.recipient ?? ''), amount, now));
      return;
  }
}

/** Whether a limit counts this intent: its currency for amount budgets, and its `when`. */
export function limitApplies(limit: CompiledLimit, scope: PolicyScope): boolean {
  if (limit.kind === 'amount') {
    if (scope.facts.intent.amount === undefined || scope.facts.currency !== limit.currency) return false;
  }
  // A missing field counts as matching: limits restrict, so they apply when in doubt.
  return limit.when === undefined || runConditions(limit.when, scope) !== FALSE;
}

/**
 * The counter check of one limit for one scope value at `now`. Calendar and lifetime
 * windows have one bucket. A rolling window of duration D is cut into sub-buckets of D/60
 * and sums every sub-bucket that overlaps `[now − D, now]`, including the oldest one that
 * is only partly inside: spend can be over-counted by at most one sub-bucket, never under.
 */
export function planCheck(limit: CompiledLimit, slot: ScopeSlot, amount: bigint, now: number): PlannedCheck {
  const window = limit.window;
  let retainUntil: number;
  let windowStart: number | undefined;
  let windowEnd: number | undefined;
  let oldestBucket: number | undefined;
  if (window.kind === 'rolling') {
    const d = window.ms;
    const g = rollingGranularity(d);
    const index = Math.floor(now / g);
    if (slot.bucket !== index) {
      const first = Math.floor((now - d) / g);
      const keys: string[] = [];
      for (let i = first; i <= index; i++) keys.push(`${limit.keyPrefix}|${i * g}|${slot.keyPart}`);
      setBucket(slot, index, keys, first * g);
    }
    oldestBucket = slot.oldest;
    retainUntil = (index + 1) * g + d;
  } else if (limit.calendar !== undefined) {
    const bounds = limit.calendar.at(now);
    if (slot.bucket !== bounds.start) {
      setBucket(slot, bounds.start, [`${limit.keyPrefix}|${bounds.start}|${slot.keyPart}`], bounds.start);
    }
    windowStart = bounds.start;
    windowEnd = bounds.end;
    retainUntil = bounds.end;
  } else if (window.kind === 'lifetime') {
    if (slot.bucket !== 0) setBucket(slot, 0, [`${limit.keyPrefix}|0|${slot.keyPart}`], 0);
    retainUntil = Number.MAX_SAFE_INTEGER;
  } else {
    throw new Error(`planCheck: ${window.kind} windows have no counter`);
  }
  const checkAmount = limit.kind === 'amount' ? amount : 1n;
  // Everything else in a check is fixed for the bucket (setBucket forgets the last one).
  const last = slot.planned;
  if (last !== undefined && last.check.amount === checkAmount) return last;
  const planned: PlannedCheck = Object.freeze({
    limit,
    slot,
    scopeLabel: slot.label,
    check: Object.freeze({
      limitId: limit.checkId,
      kind: limit.kind,
      key: slot.key,
      sumKeys: slot.sumKeys,
      limit: limit.limit,
      amount: checkAmount,
      retainUntil,
    }),
    windowStart,
    windowEnd,
    oldestBucket,
  });
  slot.planned = planned;
  return planned;
}

function setBucket(slot: ScopeSlot, bucket: number, keys: readonly string[], oldest: number): void {
  slot.bucket = bucket;
  slot.key = keys[keys.length - 1]!;
  slot.sumKeys = Object.freeze(keys);
  slot.oldest = oldest;
  slot.planned = undefined;
}

/** Minor units in the limit's unit: a decimal string of its asset, or a count. */
function format(limit: CompiledLimit, minor: bigint): string {
  if (minor === 0n) return limit.zeroText;
  const asset = limit.asset;
  if (!asset) return minor.toString();
  // Out of range only from a broken store: let Money throw, so the decision fails closed.
  if (minor < 0n || minor > MAX_MINOR_UNITS) return Money.fromMinor(minor, asset).toDecimalString();
  return formatMinor(minor, asset.decimals);
}

/**
 * The reason for one counter check. For a check that passes, `spent` and `held` are before
 * this intent and `remaining` is what is left after it; for one that is exceeded,
 * `remaining` is what is left now (less than the request).
 */
export function limitReason(
  planned: PlannedCheck,
  usage: CounterUsage,
  now: number,
  requestedText?: string,
): Reason {
  const { limit, slot } = planned;
  const total = usage.used + usage.held + usage.requested;
  const exceeded = total > usage.limit;
  const rest = usage.limit - usage.used - usage.held - (exceeded ? 0n : usage.requested);
  const remaining = rest < 0n ? 0n : rest;
  const isBudget = limit.source === 'budget';
  const unit = limit.unit;
  const sameLimit = usage.limit === limit.limit;
  const limitText = sameLimit ? limit.limitText : format(limit, usage.limit);
  const requested = isBudget ? (requestedText ?? format(limit, usage.requested)) : usage.requested.toString();
  const spent = format(limit, usage.used);
  const held = format(limit, usage.held);
  const left = format(limit, remaining);
  const message = exceeded
    ? `${slot.prefix}${spent} used + ${held} held + ${requested} requested exceeds the limit of ${limitText}${unit}`
    : sameLimit
      ? slot.prefix + left + limit.withinTail
      : `${slot.prefix}${left}${unit} of ${limitText}${unit} left after this intent`;
  const details: Record<string, unknown> =
    planned.windowEnd !== undefined
      ? { window: limit.windowLabel, scope: slot.label, requested, windowEnd: planned.windowEnd }
      : { window: limit.windowLabel, scope: slot.label, requested };
  const code = exceeded
    ? isBudget
      ? 'budget_exceeded'
      : 'rate_limit_exceeded'
    : isBudget
      ? 'budget_within_limit'
      : 'rate_limit_within_limit';
  const outcome = exceeded ? 'deny' : 'allow';
  const source = isBudget ? 'budget' : 'rate_limit';
  // Two literals rather than adding `currency` afterwards (same key order): an added key
  // would move the reason's properties out of the object into a second allocation.
  const reason: Reason = limit.asset
    ? {
        code,
        message,
        outcome,
        source,
        policyId: limit.policyId,
        budgetId: limit.id,
        limit: limitText,
        spent,
        held,
        remaining: left,
        details,
        currency: limit.asset.symbol,
      }
    : {
        code,
        message,
        outcome,
        source,
        policyId: limit.policyId,
        budgetId: limit.id,
        limit: limitText,
        spent,
        held,
        remaining: left,
        details,
      };
  if (exceeded && !isBudget) {
    const retry = retryAfter(planned, now);
    if (retry !== undefined) reason.retryAfterMs = retry;
  }
  return reason;
}

/** {@link limitReason} of every planned check, in order (`usage[i]` belongs to `planned[i]`). */
export function limitReasons(
  planned: readonly PlannedCheck[],
  usage: readonly CounterUsage[],
  now: number,
  requestedText?: string,
): Reason[] {
  const out: Reason[] = [];
  for (let i = 0; i < planned.length; i++) out.push(limitReason(planned[i]!, usage[i]!, now, requestedText));
  return out;
}

function retryAfter(planned: PlannedCheck, now: number): number | undefined {
  // Rolling windows need the per-bucket counters: see rollingRetryAfter.
  return planned.windowEnd === undefined ? undefined : Math.max(0, planned.windowEnd - now);
}

/**
 * For an exceeded rolling limit: how long until enough of today's counted buckets have left
 * the window for this request to fit, if nothing else is spent and nothing is released.
 * Undefined when the request alone is over the limit.
 */
export function rollingRetryAfter(
  planned: PlannedCheck,
  counters: ReadonlyMap<string, { used: bigint; held: bigint }>,
  now: number,
): number | undefined {
  const w = planned.limit.window;
  if (w.kind !== 'rolling' || planned.oldestBucket === undefined) return undefined;
  const { sumKeys, limit, amount } = planned.check;
  if (amount > limit) return undefined;
  const sizes = sumKeys.map((k) => {
    const c = counters.get(k);
    return c ? c.used + c.held : 0n;
  });
  let excess = sizes.reduce((a, b) => a + b, 0n) + amount - limit;
  const g = rollingGranularity(w.ms);
  for (let i = 0; i < sizes.length; i++) {
    if (excess <= 0n) break;
    excess -= sizes[i]!;
    if (excess <= 0n) return Math.max(0, planned.oldestBucket + i * g + g + w.ms - now);
  }
  return excess <= 0n ? 0 : undefined;
}

/** Checks a per-transaction budget: a plain comparison, no counter. */
export function transactionReason(limit: CompiledLimit, amount: bigint): Reason {
  const exceeded = amount > limit.limit;
  const symbol = limit.asset!.symbol;
  return {
    code: exceeded ? 'transaction_limit_exceeded' : 'transaction_within_limit',
    message: exceeded
      ? `Budget ${limit.id}: ${format(limit, amount)} ${symbol} is above the per-transaction limit of ${format(limit, limit.limit)} ${symbol}`
      : `Budget ${limit.id}: ${format(limit, amount)} ${symbol} is within the per-transaction limit of ${format(limit, limit.limit)} ${symbol}`,
    outcome: exceeded ? 'deny' : 'allow',
    source: 'budget',
    policyId: limit.policyId,
    budgetId: limit.id,
    limit: format(limit, limit.limit),
    remaining: format(limit, exceeded ? 0n : limit.limit - amount),
    currency: symbol,
    details: { window: 'transaction', requested: format(limit, amount) },
  };
}
