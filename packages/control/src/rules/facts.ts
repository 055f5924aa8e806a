import type { ParsedIntent } from '@bursar/core';
import { normalizeRecipient, recipientHost } from './recipient.js';

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
  #recipient: string | null | undefined;
  #host: string | null | undefined;

  constructor(intent: ParsedIntent, now: number) {
    this.intent = intent;
    this.now = now;
    this.currency = intent.currency?.toUpperCase();
    this.network = intent.network?.toLowerCase();
  }

  /** The recipient in comparison form (see `normalizeRecipient`). */
  get recipient(): string | undefined {
    if (this.#recipient === undefined) {
      const raw = this.intent.recipient;
      this.#recipient = raw === undefined ? null : recipientForms(raw).normalized;
    }
    return this.#recipient ?? undefined;
  }

  /** The recipient's host name, when it is a URL or a host. */
  get host(): string | undefined {
    if (this.#host === undefined) {
      const raw = this.intent.recipient;
      this.#host = raw === undefined ? null : (recipientForms(raw).host ?? null);
    }
    return this.#host ?? undefined;
  }
}

interface RecipientForms {
  normalized: string;
  host: string | undefined;
}

const forms = new Map<string, RecipientForms>();

/** Normalized form and host of a recipient, memoized (agents pay the same few recipients). */
function recipientForms(raw: string): RecipientForms {
  let f = forms.get(raw);
  if (!f) {
    const normalized = normalizeRecipient(raw);
    f = { normalized, host: recipientHost(normalized) };
    if (forms.size >= 10_000) forms.clear();
    forms.set(raw, f);
  }
  return f;
}
