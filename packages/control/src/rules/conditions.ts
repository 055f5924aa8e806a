import { type AssetRegistry, Money, type ValidationIssue } from '@bursar/core';
import type { Conditions } from '../policy/schema.js';
import { canonicalTimeZone, localWeekdayHour } from '../time/index.js';
import type { AgentGroups } from './agent-groups.js';
import type { IntentFacts } from './facts.js';
import { GlobSet } from './glob.js';
import { compileOperators, compilePath, type ValueTest } from './param-operators.js';
import type { RecipientIndex } from './recipient.js';
import { FALSE, MISSING, TRUE, type Tri } from './tri.js';

/** Per-policy, per-decision state: recipient hits and agent groups, computed lazily. */
export class PolicyScope {
  readonly facts: IntentFacts;
  hits: Uint8Array | undefined;
  readonly #recipients: RecipientIndex;
  readonly #groups: AgentGroups;
  #agentGroups: readonly string[] | undefined;

  constructor(facts: IntentFacts, recipients: RecipientIndex, groups: AgentGroups) {
    this.facts = facts;
    this.#recipients = recipients;
    this.#groups = groups;
  }

  /** Which recipient conditions of the policy the intent's recipient matches. */
  recipientHits(recipient: string): Uint8Array {
    this.hits ??= this.#recipients.match(recipient, () => this.facts.host);
    return this.hits;
  }

  /** The policy's groups the agent is in. */
  get agentGroups(): readonly string[] {
    this.#agentGroups ??= this.#groups.of(this.facts.intent.agentId);
    return this.#agentGroups;
  }
}

/** One compiled condition. */
export type ConditionTest = (scope: PolicyScope) => Tri;

/**
 * Facts about compiled conditions that let a policy skip rules that cannot match: each one,
 * when it fails for an intent, makes the whole rule fail.
 */
export interface IndexHints {
  /** Id of a positive (not negated) recipient condition. */
  recipient?: number;
  agent?: readonly string[];
  action?: readonly string[];
  /** Lower-cased networks the rule requires. */
  networks?: ReadonlySet<string>;
  /** Upper-cased currencies the rule requires (from `currency` and the amount's currency). */
  currencies?: ReadonlySet<string>;
}

/** Conditions compiled once at load, cheapest first. */
export interface CompiledConditions {
  tests: ConditionTest[];
  /** The field each test reads, to explain a match on a missing field. */
  labels: string[];
  /** True when a condition reads agent-asserted input (metadata, purpose). */
  advisory: boolean;
  hints: IndexHints;
  /** Upper-cased currency of an `amount` condition, when there is one. */
  amountCurrency?: string;
}

/** What compiling needs from the policy being compiled. */
export interface CompileContext {
  assets: AssetRegistry;
  /** The policy's IANA zone. */
  timeZone: string;
  recipients: RecipientIndex;
  issues: ValidationIssue[];
}

const DAY_INDEX: Record<string, number> = { mon: 0, tue: 1, wed: 2, thu: 3, fri: 4, sat: 5, sun: 6 };

/**
 * Compiles a `when` block; problems are appended to `ctx.issues` with their paths.
 * `restrictive` says whether what the conditions select is restricted (a deny or
 * require_approval rule, a budget or rate limit): a recipient that names a user
 * (`user@host`) then counts as its host, and is treated as not on any list a negated
 * condition names; for conditions that would allow or flag it, it never matches.
 */
export function compileConditions(
  when: Conditions | undefined,
  ctx: CompileContext,
  path: string,
  options: { restrictive: boolean } = { restrictive: true },
): CompiledConditions {
  const tests: ConditionTest[] = [];
  const labels: string[] = [];
  const add = (label: string, test: ConditionTest) => {
    tests.push(test);
    labels.push(label);
  };
  const hints: IndexHints = {};
  if (!when) return { tests, labels, advisory: false, hints };

  if (when.action) {
    const g = new GlobSet(when.action);
    hints.action = when.action;
    add('action', (s) => (g.matches(s.facts.intent.action) ? TRUE : FALSE));
  }
  if (when.agent) {
    const g = new GlobSet(when.agent);
    hints.agent = when.agent;
    add('agent', (s) => (g.matches(s.facts.intent.agentId) ? TRUE : FALSE));
  }
  if (when.currency) {
    const set = new Set<string>();
    when.currency.forEach((c, i) => {
      const asset = ctx.assets.get(c);
      if (!asset) ctx.issues.push({ path: `${path}.currency.${i}`, message: `unknown currency "${c}"` });
      else set.add(asset.symbol.toUpperCase());
    });
    hints.currencies = set;
    add('currency', (s) =>
      s.facts.currency === undefined ? MISSING : set.has(s.facts.currency) ? TRUE : FALSE,
    );
  }
  let amountCurrency: string | undefined;
  if (when.amount) {
    const compiled = compileAmount(when, ctx, `${path}.amount`);
    if (compiled) {
      amountCurrency = compiled.currency;
      add('amount', compiled.test);
      const only = new Set([compiled.currency]);
      hints.currencies = hints.currencies ? new Set([...hints.currencies].filter((c) => only.has(c))) : only;
    }
  }
  if (when.protocol) {
    const set = new Set<string>(when.protocol);
    add('protocol', (s) => {
      const p = s.facts.intent.protocol;
      return p === undefined ? MISSING : set.has(p) ? TRUE : FALSE;
    });
  }
  if (when.network) {
    const set = new Set(when.network.map((n) => n.toLowerCase()));
    hints.networks = set;
    add('network', (s) =>
      s.facts.network === undefined ? MISSING : set.has(s.facts.network) ? TRUE : FALSE,
    );
  }
  if (when.agentGroup) {
    const wanted = new Set(when.agentGroup);
    add('agentGroup', (s) => (s.agentGroups.some((g) => wanted.has(g)) ? TRUE : FALSE));
  }
  if (when.recipient) {
    const r = when.recipient;
    const id = ctx.recipients.add(r, (message) => ctx.issues.push({ path: `${path}.recipient`, message }));
    const negate = r.not === true;
    const restrictive = options.restrictive;
    if (!negate) hints.recipient = id;
    add('recipient', (s) => {
      const recipient = s.facts.recipient;
      if (recipient === undefined) return MISSING;
      if (s.facts.recipientUserinfo) {
        // `https://user@host/…` is never what lets something through; what restricts its
        // host restricts it, and it is on no allow list.
        if (!restrictive) return FALSE;
        if (negate) return TRUE;
      }
      return (s.recipientHits(recipient)[id] === 1) !== negate ? TRUE : FALSE;
    });
  }
  for (const [key, ops] of Object.entries(when.params ?? {})) {
    const get = compilePath(key);
    const test = compileOperators(ops, `${path}.params.${key}`, ctx.issues);
    add(`params.${key}`, (s) => test(get(s.facts.intent.params)));
  }
  let advisory = false;
  for (const [key, ops] of Object.entries(when.metadata ?? {})) {
    advisory = true;
    const get = compilePath(key);
    const test = compileOperators(ops, `${path}.metadata.${key}`, ctx.issues);
    add(`metadata.${key}`, (s) => test(get(s.facts.intent.metadata)));
  }
  if (when.purpose) {
    advisory = true;
    const test: ValueTest = compileOperators(when.purpose, `${path}.purpose`, ctx.issues);
    add('purpose', (s) => test(s.facts.intent.purpose));
  }
  if (when.time) {
    const t = when.time;
    const zone = t.timeZone === undefined ? ctx.timeZone : canonicalTimeZone(t.timeZone);
    if (zone === undefined) {
      ctx.issues.push({ path: `${path}.time.timeZone`, message: `unknown IANA time zone "${t.timeZone}"` });
    } else {
      const days = t.days ? new Set(t.days.map((d) => DAY_INDEX[d]!)) : undefined;
      const from = t.hours?.from;
      const to = t.hours?.to;
      add('time', (s) => {
        const { weekday, hour } = localWeekdayHour(zone, s.facts.now);
        if (days && !days.has(weekday)) return FALSE;
        if (from === undefined || to === undefined) return TRUE;
        const inside = from < to ? hour >= from && hour < to : hour >= from || hour < to;
        return inside ? TRUE : FALSE;
      });
    }
  }
  return { tests, labels, advisory, hints, ...(amountCurrency !== undefined ? { amountCurrency } : {}) };
}

function compileAmount(
  when: Conditions,
  ctx: CompileContext,
  path: string,
): { test: ConditionTest; currency: string } | undefined {
  const a = when.amount!;
  const symbol = a.currency ?? (when.currency?.length === 1 ? when.currency[0] : undefined);
  if (symbol === undefined) {
    ctx.issues.push({
      path: `${path}.currency`,
      message: 'an amount condition needs a currency: set amount.currency, or a single when.currency',
    });
    return undefined;
  }
  const asset = ctx.assets.get(symbol);
  if (!asset) {
    ctx.issues.push({ path: `${path}.currency`, message: `unknown currency "${symbol}"` });
    return undefined;
  }
  const bound = (op: 'gt' | 'gte' | 'lt' | 'lte' | 'eq'): bigint | undefined => {
    const v = a[op];
    if (v === undefined) return undefined;
    try {
      return Money.parse(v, asset).minor;
    } catch (error) {
      ctx.issues.push({ path: `${path}.${op}`, message: (error as Error).message });
      return undefined;
    }
  };
  const gt = bound('gt');
  const gte = bound('gte');
  const lt = bound('lt');
  const lte = bound('lte');
  const eq = bound('eq');
  const currency = asset.symbol.toUpperCase();
  const test: ConditionTest = (s) => {
    const amount = s.facts.intent.amount;
    if (amount === undefined) return MISSING;
    // An amount in another currency is not comparable with this bound: the condition fails.
    if (s.facts.currency !== currency) return FALSE;
    const m = amount.minor;
    if (gt !== undefined && !(m > gt)) return FALSE;
    if (gte !== undefined && !(m >= gte)) return FALSE;
    if (lt !== undefined && !(m < lt)) return FALSE;
    if (lte !== undefined && !(m <= lte)) return FALSE;
    if (eq !== undefined && m !== eq) return FALSE;
    return TRUE;
  };
  return { test, currency };
}

/** Runs compiled conditions: FALSE as soon as one fails, MISSING if any could not tell, else TRUE. */
export function runConditions(c: CompiledConditions, scope: PolicyScope): Tri {
  let result: Tri = TRUE;
  const tests = c.tests;
  for (let i = 0; i < tests.length; i++) {
    const r = tests[i]!(scope);
    if (r === FALSE) return FALSE;
    if (r === MISSING) result = MISSING;
  }
  return result;
}

/** The labels of the conditions that answered MISSING (to explain a match). */
export function missingFields(c: CompiledConditions, scope: PolicyScope): string[] {
  const out: string[] = [];
  c.tests.forEach((t, i) => {
    if (t(scope) === MISSING) out.push(c.labels[i]!);
  });
  return out;
}
