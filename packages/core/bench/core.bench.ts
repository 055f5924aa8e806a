import { canonicalHash, MemorySpendStore, Money, parseIntent } from '../src/index.js';
import { bench } from '../src/testing/bench.js';

const tenth = Money.parse('0.10', 'USDC');
await bench('core: Money.parse + add', (i) => Money.parse(i % 2 ? '25.10' : 19.99, 'USDC').add(tenth), {
  iterations: 200_000,
});

const intent = parseIntent({
  agentId: 'research-bot',
  amount: '25.00',
  currency: 'USDC',
  recipient: 'https://api.example.com/v1/chat',
  protocol: 'x402',
  params: { model: 'large', tokens: 2048 },
  metadata: { team: 'research' },
});
await bench(
  'core: canonical hash of an intent',
  () => canonicalHash({ ...intent, amount: intent.amount?.minor }),
  {
    iterations: 100_000,
  },
);

const store = new MemorySpendStore();
const now = Date.parse('2026-01-01T00:00:00Z');
const key = 'budget:daily:agent:bot:2026-01-01';
await bench(
  'core: memory store hold + capture',
  (i) => {
    const holdId = `h${i}`;
    const r = store.placeHoldSync({
      holdId,
      amount: 1n,
      checks: [
        {
          limitId: 'daily',
          kind: 'amount',
          key,
          sumKeys: [key],
          limit: 10n ** 30n,
          amount: 1n,
          retainUntil: now + 86_400_000,
        },
      ],
      now,
      expiresAt: now + 60_000,
    });
    if (!r.ok) throw new Error('hold refused');
    return store.captureHold(holdId, { now });
  },
  { iterations: 200_000 },
);
