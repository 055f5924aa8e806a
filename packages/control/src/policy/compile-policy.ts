import {
  type AssetRegistry,
  canonicalHash,
  describeIssues,
  ErrorCode,
  type Outcome,
  outcomeSeverity,
  type PolicyRef,
  ValidationError,
  type ValidationIssue,
} from '@bursar/core';
import { type CompiledLimit, compileLimits } from '../budgets/limits.js';
import { parseWindow, type WindowSpec } from '../budgets/window.js';
import { AgentGroups } from '../rules/agent-groups.js';
import { type CompiledConditions, compileConditions } from '../rules/conditions.js';
import { RecipientIndex } from '../rules/recipient.js';
import { RuleIndex } from '../rules/rule-index.js';
import { canonicalTimeZone } from '../time/index.js';
import { policyIssues } from './issues.js';
import { Policy } from './schema.js';

/** A rule compiled for evaluation. */
export interface CompiledRule {
  id: string;
  action: Outcome;
  severity: number;
  risk: number;
  code: string;
  message: string;
  /** `onMissing` resolved: whether a condition on an absent field counts as matching. */
  matchOnMissing: boolean;
  conditions: CompiledConditions;
}

/** A policy ready to decide with: validated, hashed, every matcher compiled. */
export interface CompiledPolicy {
  ref: PolicyRef;
  policy: Policy;
  timeZone: string;
  defaultAction: Outcome;
  /** In evaluation order: priority descending, then list order. */
  rules: CompiledRule[];
  /** Which rules can match an intent, found without running them. */
  ruleIndex: RuleIndex;
  recipients: RecipientIndex;
  groups: AgentGroups;
  limits: CompiledLimit[];
  /**
   * Upper-cased currencies this policy judges amounts in (`currencies`, else those of its
   * amount budgets and amount conditions); undefined: every currency (`'any'`, or none named).
   */
  currencies: ReadonlySet<string> | undefined;
  risk: { threshold: number; window: WindowSpec; windowLabel: string } | undefined;
  strikes: { max: number; windowMs: number } | undefined;
}

/** Options for {@link compilePolicy}. */
export interface CompilePolicyOptions {
  assets: AssetRegistry;
  /** Zone used when the policy names none. */
  timeZone: string;
}

/**
 * Validates a policy (JSON-like data) and compiles it. Throws one `ValidationError`
 * (`ERR_BURSAR_INVALID_POLICY`) whose issues name every offending path.
 */
export function compilePolicy(input: unknown, options: CompilePolicyOptions): CompiledPolicy {
  const parsed = Policy.safeParse(input);
  const label = policyLabel(input);
  if (!parsed.success) throw invalidPolicy(label, policyIssues(parsed.error.issues));
  const policy = parsed.data;
  const issues: ValidationIssue[] = [];

  let timeZone = options.timeZone;
  if (policy.timeZone !== undefined) {
    const zone = canonicalTimeZone(policy.timeZone);
    if (zone === undefined)
      issues.push({ path: 'timeZone', message: `unknown IANA time zone "${policy.timeZone}"` });
    else timeZone = zone;
  }
  let hash: string;
  try {
    hash = canonicalHash(policy);
  } catch (error) {
    throw invalidPolicy(label, [{ path: '', message: (error as Error).message }]);
  }

  const recipients = new RecipientIndex();
  const ctx = { assets: options.assets, timeZone, recipients, issues };
  const rules: CompiledRule[] = policy.rules.map((r, i) => {
    const restrictive = r.action === 'deny' || r.action === 'require_approval';
    const conditions = compileConditions(r.when, ctx, `rules.${i}.when`, { restrictive });
    return {
      id: r.id,
      action: r.action,
      severity: outcomeSeverity(r.action),
      risk: r.risk ?? 0,
      code: r.code ?? `rule_${r.action}`,
      message: r.message ?? r.description ?? `Rule ${r.id} of policy ${policy.id}: ${r.action}`,
      matchOnMissing: r.onMissing === undefined ? restrictive : r.onMissing === 'match',
      conditions,
    };
  });
  const order = new Map(policy.rules.map((r, i) => [r.id, { priority: r.priority ?? 0, index: i }]));
  rules.sort((a, b) => {
    const x = order.get(a.id)!;
    const y = order.get(b.id)!;
    return y.priority - x.priority || x.index - y.index;
  });
  const limits = compileLimits(policy.id, policy.budgets, policy.rateLimits, ctx);
  const currencies = coveredCurrencies(policy, rules, limits, options.assets, issues);
  if (issues.length > 0) throw invalidPolicy(label, issues);

  const riskWindow = policy.risk ? parseWindow(policy.risk.window)! : undefined;
  return {
    ref: { id: policy.id, version: policy.version, hash },
    policy,
    timeZone,
    defaultAction: policy.defaultAction,
    rules,
    ruleIndex: new RuleIndex(rules.map((r) => r.conditions.hints)),
    recipients,
    groups: new AgentGroups(policy.agentGroups),
    limits,
    currencies,
    risk:
      policy.risk && riskWindow
        ? { threshold: policy.risk.threshold, window: riskWindow, windowLabel: policy.risk.window }
        : undefined,
    strikes: policy.strikes ? { max: policy.strikes.max, windowMs: policy.strikes.window } : undefined,
  };
}

/**
 * The currencies a policy covers: its explicit list, or the currencies its amount budgets
 * and amount conditions are written in. Undefined when it covers every currency.
 */
function coveredCurrencies(
  policy: Policy,
  rules: readonly CompiledRule[],
  limits: readonly CompiledLimit[],
  assets: AssetRegistry,
  issues: ValidationIssue[],
): ReadonlySet<string> | undefined {
  const listed = policy.currencies;
  if (listed === 'any') return undefined;
  const set = new Set<string>();
  if (listed !== undefined) {
    listed.forEach((c, i) => {
      const asset = assets.get(c);
      if (!asset) issues.push({ path: `currencies.${i}`, message: `unknown currency "${c}"` });
      else set.add(asset.symbol.toUpperCase());
    });
    return set;
  }
  for (const r of rules) if (r.conditions.amountCurrency !== undefined) set.add(r.conditions.amountCurrency);
  for (const l of limits) {
    if (l.kind === 'amount' && l.currency !== undefined) set.add(l.currency);
    if (l.when?.amountCurrency !== undefined) set.add(l.when.amountCurrency);
  }
  return set.size > 0 ? set : undefined;
}

function policyLabel(input: unknown): string {
  const id = (input as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? ` "${id.slice(0, 128)}"` : '';
}

function invalidPolicy(label: string, issues: ValidationIssue[]): ValidationError {
  return new ValidationError(
    ErrorCode.INVALID_POLICY,
    `Invalid policy${label}: ${describeIssues(issues)}`,
    issues,
  );
}
