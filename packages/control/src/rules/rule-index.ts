import type { IndexHints, PolicyScope } from './conditions.js';
import { GlobSet } from './glob.js';

/** Rules keyed by a glob over one always-present value (agent id, action), memoized per value. */
class GlobKeyedRules {
  readonly #entries: Array<{ globs: GlobSet; rule: number }> = [];
  readonly #cache = new Map<string, readonly number[]>();

  add(globs: readonly string[], rule: number): void {
    this.#entries.push({ globs: new GlobSet(globs), rule });
  }

  get size(): number {
    return this.#entries.length;
  }

  rulesFor(value: string): readonly number[] {
    let rules = this.#cache.get(value);
    if (!rules) {
      rules = this.#entries.filter((e) => e.globs.matches(value)).map((e) => e.rule);
      if (this.#cache.size >= 10_000) this.#cache.clear();
      this.#cache.set(value, rules);
    }
    return rules;
  }
}

/**
 * Which of a policy's rules can match an intent, without running them. Each rule is filed
 * under one condition that, when false, makes the rule false: a positive recipient condition,
 * an agent glob, an action glob, a network, or a currency. Rules with none of these are
 * always run. Only a field that is present can rule a rule out: when the intent lacks a
 * recipient, a network or an amount, every rule filed under it is run, so missing-field
 * semantics are unchanged.
 */
export class RuleIndex {
  readonly #always: Uint8Array;
  /** Reused by every call: rule evaluation reads it synchronously, right after `candidates`. */
  readonly #mask: Uint8Array;
  /** Rules by recipient-condition id. */
  readonly #byRecipient: number[][] = [];
  readonly #recipientRules: number[] = [];
  readonly #agents = new GlobKeyedRules();
  readonly #actions = new GlobKeyedRules();
  readonly #byNetwork = new Map<string, number[]>();
  readonly #networkRules: number[] = [];
  readonly #byCurrency = new Map<string, number[]>();
  readonly #currencyRules: number[] = [];

  constructor(hints: readonly IndexHints[]) {
    this.#always = new Uint8Array(hints.length);
    this.#mask = new Uint8Array(hints.length);
    hints.forEach((h, i) => {
      if (h.recipient !== undefined) {
        const list = this.#byRecipient[h.recipient];
        if (list) list.push(i);
        else this.#byRecipient[h.recipient] = [i];
        this.#recipientRules.push(i);
      } else if (h.agent) {
        this.#agents.add(h.agent, i);
      } else if (h.action) {
        this.#actions.add(h.action, i);
      } else if (h.networks) {
        // Before currency: a network names fewer payments than a currency does.
        for (const n of h.networks) {
          const list = this.#byNetwork.get(n);
          if (list) list.push(i);
          else this.#byNetwork.set(n, [i]);
        }
        this.#networkRules.push(i);
      } else if (h.currencies) {
        for (const c of h.currencies) {
          const list = this.#byCurrency.get(c);
          if (list) list.push(i);
          else this.#byCurrency.set(c, [i]);
        }
        this.#currencyRules.push(i);
      } else {
        this.#always[i] = 1;
      }
    });
  }

  /**
   * A mask over the policy's rules: 1 where the rule may match this intent. The array is
   * reused by the next call: read it before anything else can run.
   */
  candidates(scope: PolicyScope): Uint8Array {
    const mask = this.#mask;
    mask.set(this.#always);
    const facts = scope.facts;
    if (this.#recipientRules.length > 0) {
      const recipient = facts.recipient;
      if (recipient === undefined) {
        for (const i of this.#recipientRules) mask[i] = 1;
      } else {
        const hits = scope.recipientHits(recipient);
        const byId = this.#byRecipient;
        for (let id = 0; id < hits.length; id++) {
          if (hits[id] === 1) {
            const rules = byId[id];
            if (rules) for (const i of rules) mask[i] = 1;
          }
        }
      }
    }
    if (this.#agents.size > 0) for (const i of this.#agents.rulesFor(facts.intent.agentId)) mask[i] = 1;
    if (this.#actions.size > 0) for (const i of this.#actions.rulesFor(facts.intent.action)) mask[i] = 1;
    if (this.#networkRules.length > 0) {
      if (facts.network === undefined) {
        for (const i of this.#networkRules) mask[i] = 1;
      } else {
        const rules = this.#byNetwork.get(facts.network);
        if (rules) for (const i of rules) mask[i] = 1;
      }
    }
    if (this.#currencyRules.length > 0) {
      if (facts.currency === undefined || facts.intent.amount === undefined) {
        for (const i of this.#currencyRules) mask[i] = 1;
      } else {
        const rules = this.#byCurrency.get(facts.currency);
        if (rules) for (const i of rules) mask[i] = 1;
      }
    }
    return mask;
  }
}
