import type { ParsedIntent } from '@bursar/core';
import { canonicalRecipient, recipientHost } from './recipient.js';

/**
 * The facts about one intent that rules and limits read, computed at most once per
 * decision (normalized recipient, its host, upper-cased currency …).
 */
export class IntentFacts {
  readonly intent: ParsedIntent;
  /** Epoch ms of the decision. */
  readonly now: number;
  /** Upper-cased currency symbol, when the intent has one. */
  readonly currency: string | undefined;
  /** Lower-cased CAIP-2 network, when the intent has one. */
  readonly network: string | undefined;
  #forms: RecipientForms | null | undefined;

  constructor(intent: ParsedIntent, now: number) {
    this.intent = intent;
    this.now = now;
    this.currency = intent.currency === undefined ? undefined : upperCase(intent.currency);
    this.network = intent.network === undefined ? undefined : lowerCase(intent.network);
  }

  /** The recipient in comparison form (see `canonicalRecipient`), without any user part. */
  get recipient(): string | undefined {
    return this.#recipientForms()?.normalized;
  }

  /** The recipient's host name, when it is a URL or a host. */
  get host(): string | undefined {
    return this.#recipientForms()?.host;
  }

  /**
   * True when the recipient URL names a user (`user:password@host`). Such a recipient is
   * compared as its host for rules that restrict, and never matches a rule that allows.
   */
  get recipientUserinfo(): boolean {
    return this.#recipientForms()?.userinfo === true;
  }

  #recipientForms(): RecipientForms | undefined {
    if (this.#forms === undefined) {
      const raw = this.intent.recipient;
      this.#forms = raw === undefined ? null : recipientForms(raw);
    }
    return this.#forms ?? undefined;
  }
}

const upper = new Map<string, string>();
const lower = new Map<string, string>();

/**
 * Case-folded currency and network, memoized: a decision reads a handful of distinct values,
 * and a lookup is cheaper than folding the same string again. Bounded.
 */
function upperCase(s: string): string {
  let u = upper.get(s);
  if (u === undefined) {
    u = s.toUpperCase();
    if (upper.size >= 1024) upper.clear();
    upper.set(s, u);
  }
  return u;
}

function lowerCase(s: string): string {
  let l = lower.get(s);
  if (l === undefined) {
    l = s.toLowerCase();
    if (lower.size >= 1024) lower.clear();
    lower.set(s, l);
  }
  return l;
}

interface RecipientForms {
  normalized: string;
  host: string | undefined;
  userinfo: boolean;
}

const forms = new Map<string, RecipientForms>();

/** Normalized form and host of a recipient, memoized (agents pay the same few recipients). */
function recipientForms(raw: string): RecipientForms {
  let f = forms.get(raw);
  if (!f) {
    const { value, userinfo } = canonicalRecipient(raw);
    f = { normalized: value, host: recipientHost(value), userinfo };
    if (forms.size >= 10_000) forms.clear();
    forms.set(raw, f);
  }
  return f;
}
