import {
  type Asset,
  type AssetRegistry,
  type CounterCheck,
  type CounterUsage,
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
import { FALSE } from '../rules/tri.js';
import { fixedBucket, parseWindow, rollingGranularity, type WindowSpec, windowLabel } from './window.js';

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
  /**
   * Counter keys per scope value, reused while the bucket stays the same (the store then
   * hashes the same string objects again, and nothing is rebuilt per decision).
   */
  keyCache: Map<string, { bucket: number; key: string; sumKeys: readonly string[]; oldest: number }>;
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
    limitText: asset ? Money.fromMinor(limit, asset).toDecimalString() : limit.toString(),
    keyCache: new Map(),
  };
}

/** One counter an intent touches: the check to hold, and what reports need. */
export interface PlannedCheck {
  limit: CompiledLimit;
  scopeLabel: string;
  check: CounterCheck;
  windowStart?: number;
  windowEnd?: number;
  /** For rolling windows: start of the oldest bucket summed. */
  oldestBucket?: number;
}

/** The scopes an intent falls in for a limit: `[label, key part]` pairs (none: it does not apply). */
export function scopeEntries(limit: CompiledLimit, scope: PolicyScope): Array<[string, string]> {
  const intent = scope.facts.intent;
  switch (limit.scope) {
    case 'global':
      return [['global', 'g']];
    case 'agent':
      return [[`agent:${intent.agentId}`, `a:${intent.agentId}`]];
    case 'agent_group': {
      const groups = scope.agentGroups;
      const names = limit.group === undefined ? groups : groups.includes(limit.group) ? [limit.group] : [];
      return names.map((g) => [`group:${g}`, `g:${g}`]);
    }
    case 'recipient': {
      const r = scope.facts.recipient ?? '';
      return [[`recipient:${r}`, `r:${r}`]];
    }
    case 'action':
      return [[`action:${intent.action}`, `x:${intent.action}`]];
    case 'agent_recipient': {
      const a = intent.agentId;
      const r = scope.facts.recipient ?? '';
      return [[`agent:${a},recipient:${r}`, `ar:${a.length}:${a}${r}`]];
    }
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
 * The counter checks of one limit for one scope value at `now`. Calendar and lifetime
 * windows have one bucket. A rolling window of duration D is cut into sub-buckets of D/60
 * and sums every sub-bucket that overlaps `[now − D, now]`, including the oldest one that
 * is only partly inside: spend can be over-counted by at most one sub-bucket, never under.
 */
export function planCheck(
  limit: CompiledLimit,
  label: string,
  keyPart: string,
  amount: bigint,
  now: number,
): PlannedCheck {
  let cached = limit.keyCache.get(keyPart);
  let retainUntil: number;
  const planned: Omit<PlannedCheck, 'check'> = { limit, scopeLabel: label };
  if (limit.window.kind === 'rolling') {
    const d = limit.window.ms;
    const g = rollingGranularity(d);
    const index = Math.floor(now / g);
    if (!cached || cached.bucket !== index) {
      const first = Math.floor((now - d) / g);
      const keys: string[] = [];
      for (let i = first; i <= index; i++) keys.push(`${limit.keyPrefix}|${i * g}|${keyPart}`);
      cached = { bucket: index, key: keys[keys.length - 1]!, sumKeys: keys, oldest: first * g };
      cacheKeys(limit, keyPart, cached);
    }
    planned.oldestBucket = cached.oldest;
    retainUntil = (index + 1) * g + d;
  } else {
    const b = fixedBucket(limit.window, limit.zone, now);
    if (!cached || cached.bucket !== b.bucket) {
      const key = `${limit.keyPrefix}|${b.bucket}|${keyPart}`;
      cached = { bucket: b.bucket, key, sumKeys: [key], oldest: b.bucket };
      cacheKeys(limit, keyPart, cached);
    }
    if (b.start !== undefined) planned.windowStart = b.start;
    if (b.end !== undefined) planned.windowEnd = b.end;
    retainUntil = b.retainUntil;
  }
  return {
    ...planned,
    check: {
      limitId: limit.checkId,
      kind: limit.kind,
      key: cached.key,
      sumKeys: cached.sumKeys,
      limit: limit.limit,
      amount: limit.kind === 'amount' ? amount : 1n,
      retainUntil,
    },
  };
}

function cacheKeys(
  limit: CompiledLimit,
  keyPart: string,
  entry: { bucket: number; key: string; sumKeys: readonly string[]; oldest: number },
): void {
  if (limit.keyCache.size >= 4096) limit.keyCache.clear();
  limit.keyCache.set(keyPart, entry);
}

function format(limit: CompiledLimit, minor: bigint): string {
  return limit.asset ? Money.fromMinor(minor, limit.asset).toDecimalString() : minor.toString();
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
  const { limit } = planned;
  const total = usage.used + usage.held + usage.requested;
  const exceeded = total > usage.limit;
  const rest = usage.limit - usage.used - usage.held - (exceeded ? 0n : usage.requested);
  const remaining = rest < 0n ? 0n : rest;
  const isBudget = limit.source === 'budget';
  const unit = isBudget ? ` ${limit.asset!.symbol}` : '';
  const name = `${isBudget ? 'Budget' : 'Rate limit'} ${limit.id} (${limit.windowLabel}, ${planned.scopeLabel})`;
  const limitText = usage.limit === limit.limit ? limit.limitText : format(limit, usage.limit);
  const requested = isBudget ? (requestedText ?? format(limit, usage.requested)) : usage.requested.toString();
  const spent = format(limit, usage.used);
  const held = format(limit, usage.held);
  const left = format(limit, remaining);
  const message = exceeded
    ? `${name}: ${spent} used + ${held} held + ${requested} requested exceeds the limit of ${limitText}${unit}`
    : `${name}: ${left}${unit} of ${limitText}${unit} left after this intent`;
  const reason: Reason = {
    code: exceeded
      ? isBudget
        ? 'budget_exceeded'
        : 'rate_limit_exceeded'
      : isBudget
        ? 'budget_within_limit'
        : 'rate_limit_within_limit',
    message,
    outcome: exceeded ? 'deny' : 'allow',
    source: isBudget ? 'budget' : 'rate_limit',
    policyId: limit.policyId,
    budgetId: limit.id,
    limit: limitText,
    spent,
    held,
    remaining: left,
    details: {
      window: limit.windowLabel,
      scope: planned.scopeLabel,
      requested,
      ...(planned.windowEnd !== undefined ? { windowEnd: planned.windowEnd } : {}),
    },
  };
  if (limit.asset) reason.currency = limit.asset.symbol;
  if (exceeded && !isBudget) {
    const retry = retryAfter(planned, now);
    if (retry !== undefined) reason.retryAfterMs = retry;
  }
  return reason;
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
