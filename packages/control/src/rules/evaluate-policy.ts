import { type Outcome, outcomeSeverity, type Reason } from '@bursar/core';
import type { CompiledPolicy, CompiledRule } from '../policy/compile-policy.js';
import { missingFields, PolicyScope, runConditions } from './conditions.js';
import type { IntentFacts } from './facts.js';
import { FALSE, MISSING } from './tri.js';

/** What one policy says about an intent. */
export interface PolicyVerdict {
  policy: CompiledPolicy;
  outcome: Outcome;
  reasons: Reason[];
  /** Risk points of every rule that applied. */
  riskPoints: number;
  /** Lazily computed per-decision state, reused by the policy's budgets. */
  scope: PolicyScope;
}

const DENY = 3;

/**
 * Runs a policy's rules in order. First definite match wins. Two kinds of match do not end
 * the scan, so that nothing an agent leaves out or asserts can loosen the result:
 * - a deny or require_approval rule that matches only because a field is missing
 *   (its `onMissing` is `match`, the default for those actions);
 * - a rule that reads agent-asserted input (metadata, purpose).
 * Their outcomes are kept and the policy's outcome is the most restrictive of them and of
 * the first definite match (or the default action).
 */
export function evaluatePolicy(policy: CompiledPolicy, facts: IntentFacts): PolicyVerdict {
  const scope = new PolicyScope(facts, policy.recipients, policy.groups);
  const covered = policy.currencies;
  if (covered !== undefined && facts.intent.amount !== undefined && !covered.has(facts.currency!)) {
    // Its rules and budgets are written for other currencies: none of them could judge this
    // amount, so the policy cannot allow it (fail closed), rather than skipping them all.
    return { policy, outcome: 'deny', reasons: [notCovered(policy, facts, covered)], riskPoints: 0, scope };
  }
  const kept: Array<{ rule: CompiledRule; missing: string[] | undefined }> = [];
  let decided: CompiledRule | undefined;
  let decidedMissing: string[] | undefined;
  const rules = policy.rules;
  const candidates = policy.ruleIndex.candidates(scope);
  for (let i = 0; i < rules.length; i++) {
    if (candidates[i] === 0) continue;
    const rule = rules[i]!;
    const r = runConditions(rule.conditions, scope);
    if (r === FALSE) continue;
    if (r === MISSING) {
      if (!rule.matchOnMissing) continue;
      if (rule.severity >= 2 || rule.conditions.advisory) {
        kept.push({ rule, missing: missingFields(rule.conditions, scope) });
        if (rule.severity === DENY) break;
        continue;
      }
      decidedMissing = missingFields(rule.conditions, scope);
    } else if (rule.conditions.advisory) {
      kept.push({ rule, missing: undefined });
      if (rule.severity === DENY) break;
      continue;
    }
    decided = rule;
    break;
  }

  if (kept.length === 0) {
    // The common case, one reason: an array of exactly one, not one grown by push.
    if (decided) {
      return {
        policy,
        outcome: decided.action,
        reasons: [ruleReason(policy, decided, decidedMissing)],
        riskPoints: decided.risk,
        scope,
      };
    }
    return { policy, outcome: policy.defaultAction, reasons: [defaultReason(policy)], riskPoints: 0, scope };
  }

  const reasons: Reason[] = [];
  let riskPoints = 0;
  let outcome: Outcome;
  for (const k of kept) {
    reasons.push(ruleReason(policy, k.rule, k.missing));
    riskPoints += k.rule.risk;
  }
  const stoppedOnDeny = kept.length > 0 && kept[kept.length - 1]!.rule.severity === DENY;
  if (decided) {
    reasons.push(ruleReason(policy, decided, decidedMissing));
    riskPoints += decided.risk;
    outcome = decided.action;
  } else if (stoppedOnDeny) {
    outcome = 'deny';
  } else {
    outcome = policy.defaultAction;
    reasons.push(defaultReason(policy));
  }
  for (const k of kept) if (k.rule.severity > outcomeSeverity(outcome)) outcome = k.rule.action;
  return { policy, outcome, reasons, riskPoints, scope };
}

function defaultReason(policy: CompiledPolicy): Reason {
  const outcome = policy.defaultAction;
  return {
    code: 'default_action',
    message: `No rule of policy ${policy.ref.id} matched; its default action is ${outcome}`,
    outcome,
    source: 'default',
    policyId: policy.ref.id,
  };
}

function notCovered(policy: CompiledPolicy, facts: IntentFacts, covered: ReadonlySet<string>): Reason {
  const currency = facts.intent.amount!.currency;
  const list = [...covered].sort();
  const explicit = Array.isArray(policy.policy.currencies);
  return {
    code: 'currency_not_covered',
    message: `Policy ${policy.ref.id} judges amounts in ${list.join(', ')} only${explicit ? '' : ' (the currencies of its budgets and amount rules)'}; ${facts.intent.amount!.toDecimalString()} ${currency} is not covered. List ${currency} in the policy's currencies (or set currencies: 'any') to let its rules decide it`,
    outcome: 'deny',
    source: 'system',
    policyId: policy.ref.id,
    currency,
    details: { currency, covered: list },
  };
}

function ruleReason(policy: CompiledPolicy, rule: CompiledRule, missing: string[] | undefined): Reason {
  const reason: Reason = {
    code: rule.code,
    message: missing?.length
      ? `${rule.message} (applied because ${missing.join(', ')} missing)`
      : rule.message,
    outcome: rule.action,
    source: 'rule',
    policyId: policy.ref.id,
    ruleId: rule.id,
  };
  if (missing?.length) reason.details = { missing };
  return reason;
}
