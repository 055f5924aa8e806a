import { ManualClock } from '@bursar/core';
import { T0 } from '../../../__fixtures__/engine.js';
import { ApprovalManager } from '../../../approvals/index.js';
import { PolicyEngine } from '../../../engine/index.js';
import { createOperator, type OperatorCapability } from '../../../operator/index.js';
import type { PolicyInput } from '../../../policy/schema.js';
import type { BursarRequestContext } from '../http-options.js';

/**
 * Payments to evil.example are denied, above 50 USDC need approval, 100 USDC a day; agents
 * named `chatty-*` may pay twice an hour.
 */
export const httpPolicy: PolicyInput = {
  id: 'http',
  rules: [
    { id: 'blocked', action: 'deny', when: { recipient: 'https://evil.example/*' }, onMissing: 'no_match' },
    {
      id: 'big',
      action: 'require_approval',
      when: { amount: { gt: 50, currency: 'USDC' } },
      onMissing: 'no_match',
    },
    { id: 'ok', action: 'allow' },
  ],
  budgets: [{ id: 'day', window: 'daily', maxAmount: 100, currency: 'USDC' }],
  rateLimits: [{ id: 'chatty', scope: 'agent', when: { agent: 'chatty-*' }, window: 'hourly', maxCount: 2 }],
};

/** A door a handler waits at: tests see it arrive and decide when it may go on. */
export class Latch {
  #arrive!: () => void;
  #open!: () => void;
  #done!: () => void;
  /** Resolves when a handler reached the latch. */
  readonly arrived = new Promise<void>((r) => {
    this.#arrive = r;
  });
  readonly #opened = new Promise<void>((r) => {
    this.#open = r;
  });
  /** Resolves when the waiting handler finished. */
  readonly finished = new Promise<void>((r) => {
    this.#done = r;
  });
  /** What the handler saw of `req.bursar.signal` after the latch opened. */
  signalAborted: boolean | undefined;

  async wait(signal: AbortSignal | undefined): Promise<void> {
    this.#arrive();
    await this.#opened;
    this.signalAborted = signal?.aborted;
  }

  open(): void {
    this.#open();
  }

  finish(): void {
    this.#done();
  }
}

/** What a test server's handler does, chosen by `params.mode` in the body. */
export type Mode = 'ok' | 'throw' | 'status402' | 'wait';

/** Runs a handler's behaviour; returns the JSON to send with 200/402, or throws. */
export async function behave(
  body: unknown,
  bursar: BursarRequestContext | null | undefined,
  latch: Latch,
): Promise<{ status: number; json: unknown }> {
  const mode = ((body as { params?: { mode?: Mode } } | undefined)?.params?.mode ?? 'ok') as Mode;
  if (mode === 'throw') throw new Error('handler failed');
  if (mode === 'wait') {
    try {
      await latch.wait(bursar?.signal);
    } finally {
      latch.finish();
    }
  }
  const json = {
    ok: mode !== 'status402',
    agentId: bursar?.intent.agentId ?? null,
    outcome: bursar?.decision.outcome ?? null,
    action: bursar?.intent.action ?? null,
  };
  return { status: mode === 'status402' ? 402 : 200, json };
}

/** A server under test, listening on 127.0.0.1. */
export interface TestServer {
  url: string;
  close(): Promise<void>;
}

/** What a server factory gets: the integration's options and the handler latch. */
export interface ServerSetup {
  options: Record<string, unknown>;
  latch: Latch;
}

/** Starts a framework app with the test routes: POST /pay (guarded), GET /health, approval status. */
export type ServerFactory = (setup: ServerSetup) => Promise<TestServer>;

/** An engine on a manual clock with an attached ApprovalManager and approvers. */
export function httpHarness() {
  const clock = new ManualClock(T0);
  const operator = createOperator({ actor: 'ops@example.com' });
  const approvals = new ApprovalManager({ sweepIntervalMs: 0 });
  const engine = new PolicyEngine({ clock, operators: [operator], approvals });
  engine.loadPolicy(httpPolicy);
  const as = (actor: string): OperatorCapability => {
    const op = createOperator({ actor });
    engine.grantOperator(operator, op);
    return op;
  };
  const day = async () => {
    const [s] = await engine.getBudgetStatus({ budgetId: 'day' });
    return { spent: s!.spent, held: s!.held };
  };
  return { clock, operator, approvals, engine, as, day, latch: new Latch() };
}

/** Polls `check` until it returns true (at most `timeoutMs`), then returns the last answer. */
export async function eventually(
  check: () => Promise<boolean> | boolean,
  timeoutMs = 3_000,
): Promise<boolean> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (performance.now() > until) return false;
    await new Promise((r) => setTimeout(r, 5));
  }
}
