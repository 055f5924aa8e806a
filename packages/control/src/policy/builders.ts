import type { AmountInput } from '@bursar/core';
import type { BudgetInput, ConditionsInput, PolicyInput, RateLimitInput, RuleInput } from './schema.js';

/** Options every rule builder accepts. `when` adds conditions to the builder's own. */
export interface RuleOptions {
  id?: string;
  description?: string;
  priority?: number;
  risk?: number;
  code?: string;
  message?: string;
  onMissing?: 'match' | 'no_match';
  when?: ConditionsInput;
}

/** Options of the budget builders. */
export interface BudgetOptions {
  id?: string;
  description?: string;
  scope?: BudgetInput['scope'];
  group?: string;
  when?: ConditionsInput;
}

const slug = (text: string) =>
  text
    .toLowerCase()
    .replace(/[^a-z0-9._-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 100) || 'x';

function rule(base: RuleInput, options: RuleOptions = {}): RuleInput {
  const { when, ...rest } = options;
  const merged = base.when || when ? { ...base.when, ...when } : undefined;
  return { ...base, ...rest, ...(merged ? { when: merged } : {}) };
}

/**
 * Denies payments above `amount` of `currency`. An intent without an amount (a tool call
 * that pays nothing) is not blocked by it (`onMissing: 'no_match'`); amounts in another
 * currency are not compared.
 *
 * @example
 * blockAbove(1000, 'USDC') // deny anything over 1000 USDC
 */
export function blockAbove(amount: AmountInput, currency: string, options?: RuleOptions): RuleInput {
  return above(
    { action: 'deny', id: 'block-above', code: 'amount_above_limit', verb: 'are blocked' },
    amount,
    currency,
    options,
  );
}

/** Requires a human approval for payments above `amount` of `currency`. */
export function requireApprovalAbove(
  amount: AmountInput,
  currency: string,
  options?: RuleOptions,
): RuleInput {
  return above(
    {
      action: 'require_approval',
      id: 'approval-above',
      code: 'approval_required_above',
      verb: 'need approval',
    },
    amount,
    currency,
    options,
  );
}

/** A rule on payments above an amount. An intent without an amount pays nothing: it does not match. */
function above(
  kind: { action: 'deny' | 'require_approval'; id: string; code: string; verb: string },
  amount: AmountInput,
  currency: string,
  options: RuleOptions | undefined,
): RuleInput {
  return rule(
    {
      id: `${kind.id}-${slug(`${amount}-${currency}`)}`,
      action: kind.action,
      when: { amount: { gt: amount, currency } },
      onMissing: 'no_match',
      code: kind.code,
      message: `Payments above ${amount} ${currency} ${kind.verb}`,
    },
    options,
  );
}

/** Allows whatever reaches it (put it last). */
export function allowAll(options?: RuleOptions): RuleInput {
  return rule({ id: 'allow-all', action: 'allow', code: 'allowed', message: 'Allowed' }, options);
}

/** Denies whatever reaches it. */
export function denyAll(options?: RuleOptions): RuleInput {
  return rule({ id: 'deny-all', action: 'deny', code: 'denied', message: 'Denied' }, options);
}

/** How recipient builders read their list: globs (default; plain text is exact), exact values, or domains. */
export type RecipientMatch = 'glob' | 'exact' | 'domain';

/**
 * Denies payments to any listed recipient. An intent that names no recipient is denied too
 * (it could be anyone); pass `{ onMissing: 'no_match' }` to let it through.
 *
 * @example
 * blockRecipients(['https://*.evil.example/*', '0xdead…'])
 * blockRecipients(['evil.example'], { match: 'domain' }) // the domain and its subdomains
 */
export function blockRecipients(
  recipients: readonly string[],
  options: RuleOptions & { match?: RecipientMatch } = {},
): RuleInput {
  const { match = 'glob', ...rest } = options;
  return rule(
    {
      id: 'block-recipients',
      action: 'deny',
      when: { recipient: { [match]: [...recipients] } },
      code: 'recipient_blocked',
      message: 'The recipient is blocked',
    },
    rest,
  );
}

/**
 * Denies payments to any recipient NOT listed (and to intents without a recipient). Combine
 * with other rules: it only denies, so an `allowAll()` after it allows the listed ones.
 */
export function allowOnlyRecipients(
  recipients: readonly string[],
  options: RuleOptions & { match?: RecipientMatch } = {},
): RuleInput {
  const { match = 'glob', ...rest } = options;
  return rule(
    {
      id: 'allow-only-recipients',
      action: 'deny',
      when: { recipient: { [match]: [...recipients], not: true } },
      code: 'recipient_not_allowed',
      message: 'The recipient is not on the allow list',
    },
    rest,
  );
}

/**
 * A count limit (velocity): at most `maxCount` authorized intents per window and scope.
 *
 * @example
 * rateLimit({ maxCount: 10, window: 'rolling:1m', scope: 'agent' })
 */
export function rateLimit(options: {
  maxCount: number;
  window: string;
  scope?: RateLimitInput['scope'];
  id?: string;
  description?: string;
  group?: string;
  when?: ConditionsInput;
}): RateLimitInput {
  return { ...options };
}

/** An amount budget per window. */
export function budget(
  options: BudgetOptions & { maxAmount: AmountInput; currency: string; window: string },
): BudgetInput {
  return { ...options };
}

const windowBudget =
  (window: string) =>
  (maxAmount: AmountInput, currency: string, options: BudgetOptions = {}): BudgetInput =>
    budget({ ...options, maxAmount, currency, window });

/** At most `maxAmount` per calendar hour (in the engine's or policy's zone). */
export const hourlyBudget = windowBudget('hourly');
/** At most `maxAmount` per calendar day. */
export const dailyBudget = windowBudget('daily');
/** At most `maxAmount` per calendar week (Monday to Sunday). */
export const weeklyBudget = windowBudget('weekly');
/** At most `maxAmount` per calendar month. */
export const monthlyBudget = windowBudget('monthly');
/** At most `maxAmount` ever. */
export const lifetimeBudget = windowBudget('lifetime');
/** At most `maxAmount` in any single intent (a plain comparison, no counter). */
export const perTransactionLimit = windowBudget('transaction');

/** At most `maxAmount` in any window of `duration` (`'90m'`, `'7d'` or ms) ending now. */
export function rollingBudget(
  maxAmount: AmountInput,
  currency: string,
  duration: string | number,
  options: BudgetOptions = {},
): BudgetInput {
  return budget({ ...options, maxAmount, currency, window: `rolling:${duration}` });
}

/** Identity function that gives a policy object literal its type (editor completion). */
export function definePolicy(policy: PolicyInput): PolicyInput {
  return policy;
}
