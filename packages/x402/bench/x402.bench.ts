/**
 * Guard overhead per paid request: the seller guard's hooks (beforeVerify → afterVerify →
 * beforeSettle → afterSettle) around `guardFacilitator` whose client is stubbed in-process.
 *
 * - "adapter only": the engine is a no-op, so the figure is the adapter's own work (payment
 *   id hashing, exact amount mapping, replay book, breaker, facilitator tagging, effects).
 * - "with PolicyEngine": the real engine evaluates before verify (block rule + per-agent daily
 *   budget, no side effects), authorizes and holds atomically after verify, and captures.
 *
 * Each is measured after 1 000 and after 1 000 000 payments recorded through the same path.
 * Time is a ManualClock advancing 50 ms per payment (20 payments/s: 1M payments span ~14 h),
 * so retention windows behave as in production: memory is bounded by rate × retention, not by
 * history. The engine remembers idempotency keys for 1 h here (x402 authorizations live for
 * minutes); the guard remembers finished payments for 1 h (at most 100 000).
 *
 * Run: pnpm --filter @bursar/x402 bench
 */
import { GCProfiler, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { allowAll, blockAbove, dailyBudget, PolicyEngine } from '@bursar/control';
import { type Decision, type IntentInput, ManualClock, newHoldId, newIntentId } from '@bursar/core';
import { bench } from '@bursar/core/testing';
import type {
  AfterSettleHook,
  AfterVerifyHook,
  BeforeSettleHook,
  BeforeVerifyHook,
  FacilitatorClient,
  OnSettleFailureHook,
  OnVerifiedPaymentCanceledHook,
  OnVerifyFailureHook,
} from '@x402/core/server';
import type { PaymentPayload, PaymentRequirements, SettleContext, VerifyContext } from '@x402/core/types';
import { createX402Guard, type GuardableResourceServer, guardFacilitator } from '../src/index.js';

const NETWORK = 'eip155:84532' as const;
const requirements: PaymentRequirements = {
  scheme: 'exact',
  network: NETWORK,
  asset: '0x036CbD53842c5426634e7929541eC2318f3dCF7e',
  amount: '10000',
  payTo: '0x00000000000000000000000000000000005e11e4',
  maxTimeoutSeconds: 60,
  extra: { name: 'USDC', version: '2' },
};

/** Collects the hooks the guard registers, so the bench calls exactly those. */
class HookBox implements GuardableResourceServer {
  beforeVerify!: BeforeVerifyHook;
  afterVerify!: AfterVerifyHook;
  beforeSettle!: BeforeSettleHook;
  afterSettle!: AfterSettleHook;
  onBeforeVerify(h: BeforeVerifyHook) {
    this.beforeVerify = h;
  }
  onAfterVerify(h: AfterVerifyHook) {
    this.afterVerify = h;
  }
  onVerifyFailure(_h: OnVerifyFailureHook) {}
  onBeforeSettle(h: BeforeSettleHook) {
    this.beforeSettle = h;
  }
  onAfterSettle(h: AfterSettleHook) {
    this.afterSettle = h;
  }
  onSettleFailure(_h: OnSettleFailureHook) {}
  onVerifiedPaymentCanceled(_h: OnVerifiedPaymentCanceledHook) {}
}

const PAYERS = Array.from({ length: 1000 }, (_, i) => `0x${i.toString(16).padStart(40, '0')}`);

function payload(i: number): PaymentPayload {
  const from = PAYERS[i % PAYERS.length]!;
  return {
    x402Version: 2,
    accepted: requirements,
    payload: {
      signature: '0x' + 'ab'.repeat(65),
      authorization: {
        from,
        to: requirements.payTo,
        value: requirements.amount,
        validAfter: '0',
        validBefore: '9999999999',
        nonce: `0x${i.toString(16).padStart(64, '0')}`,
      },
    },
  };
}

const stub: FacilitatorClient = {
  verify: async (p) => ({ isValid: true, payer: (p.payload.authorization as { from: string }).from }),
  settle: async (p) => ({
    success: true,
    transaction: `0x${(p.payload.authorization as { nonce: string }).nonce.slice(2)}`,
    network: NETWORK,
  }),
  getSupported: async () => ({
    kinds: [{ x402Version: 2, scheme: 'exact', network: NETWORK }],
    extensions: [],
    signers: {},
  }),
};

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** A no-op engine: allow and hold nothing, to isolate the adapter's own cost. */
const noopEngine = {
  async evaluate(intent: IntentInput): Promise<Decision> {
    return {
      outcome: 'allow',
      intentId: newIntentId(),
      intentHash: 'h',
      reasons: [],
      policies: [],
      agentId: intent.agentId,
      evaluatedAt: 0,
    };
  },
  async authorize(intent: IntentInput): Promise<Decision> {
    return {
      outcome: 'allow',
      holdId: newHoldId(),
      intentId: newIntentId(),
      intentHash: 'h',
      reasons: [],
      policies: [],
      agentId: intent.agentId,
      evaluatedAt: 0,
    };
  },
  async capture() {},
  async release() {},
};

interface Rig {
  name: string;
  /** Builds the next payloads ahead of time, so the measured calls only run the guard. */
  prepare(n: number): void;
  run(): Promise<void>;
  /** Records one payment in the engine only (authorize + capture, as the guard would). */
  bulk?(): Promise<void>;
  seq: () => number;
  tracked: () => number;
}

function rig(name: string, withEngine: boolean): Rig {
  const clock = new ManualClock(Date.parse('2026-03-02T00:00:00Z'));
  let engine: PolicyEngine | typeof noopEngine = noopEngine;
  if (withEngine) {
    const e = new PolicyEngine({ clock, idempotencyTtlMs: 3_600_000 });
    e.loadPolicy({
      id: 'bench',
      rules: [blockAbove(1000, 'USDC'), allowAll()],
      budgets: [dailyBudget(1_000_000_000, 'USDC', { scope: 'agent' })],
    });
    engine = e;
  }
  const box = new HookBox();
  const guard = createX402Guard({ engine, clock, observeResults: false, retentionMs: 3_600_000 }).attach(box);
  const facilitator = guardFacilitator(stub, { names: ['stub'], clock });
  let seq = 0;
  let ready: PaymentPayload[] = [];
  let next = 0;
  const policyEngine = engine instanceof PolicyEngine ? engine : undefined;
  return {
    name,
    prepare(n: number) {
      ready = Array.from({ length: n }, (_, k) => payload(seq + k));
      next = 0;
    },
    seq: () => seq,
    tracked: () => guard.stats().tracked,
    ...(policyEngine
      ? {
          async bulk() {
            clock.advance(50);
            const i = seq++;
            const d = await policyEngine.authorize({
              agentId: PAYERS[i % PAYERS.length]!,
              action: 'payment',
              amount: '0.010000',
              currency: 'USDC',
              recipient: 'https://api.example.com/weather',
              protocol: 'x402',
              network: NETWORK,
              params: {
                scheme: 'exact',
                payTo: requirements.payTo,
                asset: requirements.asset,
                atomicAmount: '10000',
              },
              idempotencyKey: `x402:bulk:${i}`,
              metadata: { paymentId: `bulk:${i}`, x402Version: 2 },
            });
            await policyEngine.capture(d.holdId!);
          },
        }
      : {}),
    async run() {
      clock.advance(50);
      const p = next < ready.length ? ready[next++]! : payload(seq);
      seq++;
      const ctx: VerifyContext = { paymentPayload: p, requirements, declaredExtensions: {} };
      const refused = await box.beforeVerify(ctx);
      if (refused) throw new Error(`refused: ${JSON.stringify(refused)}`);
      const verified = await facilitator.verify(p, requirements);
      const after = await box.afterVerify({ ...ctx, result: verified });
      if (after) throw new Error(`afterVerify: ${JSON.stringify(after)}`);
      const sctx: SettleContext = { ...ctx, phase: 'after-handler' };
      const r = await box.beforeSettle(sctx);
      if (r) throw new Error(`beforeSettle: ${JSON.stringify(r)}`);
      const settled = await facilitator.settle(p, requirements);
      await box.afterSettle({ ...sctx, result: settled });
    },
  };
}

/**
 * Records payments up to `total`. With an engine, all but the last 100 000 go to the engine
 * directly (the guard's own memory is bounded well below 100 000 at this rate), to keep the
 * bench short; the rest take the full guarded path.
 */
async function recordUntil(r: Rig, total: number): Promise<void> {
  const started = process.hrtime.bigint();
  const from = r.seq();
  if (r.bulk) while (r.seq() < total - 100_000) await r.bulk();
  while (r.seq() < total) await r.run();
  const s = Number(process.hrtime.bigint() - started) / 1e9;
  if (total - from > 10_000) {
    console.log(
      `${r.name}: recorded ${total} payments (+${total - from} in ${s.toFixed(1)} s); guard tracks ${r.tracked()}`,
    );
  }
}

/** How many payments the second measurement is taken after (1M; smaller for a quick look). */
const BIG = Number(process.env.X402_BENCH_RECORDED ?? 1_000_000);
const ONLY = process.env.X402_BENCH_ONLY;

for (const [name, withEngine] of [
  ['adapter only', false],
  ['with PolicyEngine', true],
] as const) {
  if (ONLY && !name.includes(ONLY)) continue;
  // Warm the JIT on a throwaway rig, so the measured rig starts at exactly 1 000 payments.
  const warm = rig(name, withEngine);
  for (let i = 0; i < 20_000; i++) await warm.run();
  const r = rig(name, withEngine);
  for (const recorded of [1_000, BIG]) {
    await recordUntil(r, recorded);
    r.prepare(6_000);
    collect();
    // collect() frees the fill's garbage at once (over 200 MB at 1M), but V8 sweeps the freed
    // pages on background threads for a few hundred ms afterwards; on this 2-vCPU machine that
    // sweep competes with the measured calls (p95 15 → 20 µs at 1M). Let it finish, so the
    // figures show the paid request and not the bench's own forced collection.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const label = recorded >= 1e6 ? `${recorded / 1e6}M` : `${recorded / 1e3}k`;
    const profiler = new GCProfiler();
    profiler.start();
    const heapBefore = process.memoryUsage().heapUsed;
    const result = await bench(`x402 guard ${name}: paid request, ${label} recorded`, () => r.run(), {
      iterations: 5_000,
      warmup: 1_000,
    });
    const heapAfter = process.memoryUsage().heapUsed;
    let freed = 0;
    for (const gc of profiler.stop().statistics) {
      freed += gc.beforeGC.heapStatistics.usedHeapSize - gc.afterGC.heapStatistics.usedHeapSize;
    }
    // Bytes allocated on the JS heap per call (warm-up calls included): what the collections in
    // between freed plus the growth of the heap.
    const bytes = (freed + heapAfter - heapBefore) / 6_000;
    console.log(
      `${name}, ${label}: CPU ${(result.cpu / 1000).toFixed(1)} µs and ${Math.round(bytes).toLocaleString('en-US')} bytes allocated per paid request`,
    );
  }
}
