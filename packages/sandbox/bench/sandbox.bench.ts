import { ManualClock, Money } from '@bursar/core';
import { bench } from '@bursar/core/bench';
import {
  AcpClient,
  Ap2CredentialProvider,
  Ledger,
  SeededRandom,
  startAcpMerchant,
  startX402Sandbox,
} from '../src/index.js';

const rng = new SeededRandom(1);
await bench('SeededRandom.nextUint32', () => rng.nextUint32(), { iterations: 200_000 });
await bench('SeededRandom.fork(key).chance', (i) => rng.fork(`k${i}`).chance(0.5), { iterations: 50_000 });

const ledger = new Ledger({ rail: 'x402' });
const amount = Money.parse('0.01', 'USDC');
await bench(
  'Ledger.record',
  (i) => ledger.record({ kind: 'charge', amount, payee: 'p', reference: `t${i}` }),
  {
    iterations: 50_000,
  },
);

const clock = new ManualClock('2026-01-01T00:00:00Z');
const ap2 = new Ap2CredentialProvider({ seed: 1, clock });
const mandate = ap2.issueOpenMandate({
  holder: 'bench',
  currency: 'USD',
  payees: ['p.example'],
  maxAmount: '1',
  budget: '1000000000',
  expiresAt: Date.parse('2030-01-01T00:00:00Z'),
});
await bench(
  'AP2 pay (open mandate, in process)',
  () => ap2.pay({ mandate, payee: 'p.example', amount: '0.01' }),
  {
    iterations: 20_000,
  },
);

const merchant = await startAcpMerchant({ seed: 1 });
const acp = new AcpClient({ baseUrl: merchant.url });
await bench(
  'ACP checkout: create + delegate + complete over HTTP',
  async (i) => {
    const s = await acp.createCheckout({ items: [{ id: 'sku-gpu-hour', quantity: 1 }] });
    if (!s.ok) throw new Error('create failed');
    const t = await acp.delegatePayment({
      allowance: {
        reason: 'one_time',
        max_amount: 250,
        currency: 'usd',
        merchant_id: merchant.merchantId,
        expires_at: '2030-01-01T00:00:00Z',
      },
    });
    if (!t.ok) throw new Error('delegate failed');
    const done = await acp.complete(s.body.id, { token: t.body.id }, { idempotencyKey: `b${i}` });
    if (!done.ok) throw new Error('complete failed');
  },
  { iterations: 500, warmup: 50 },
);
await merchant.close();

const rail = await startX402Sandbox({ seed: 1, routes: { '/r': { price: '0.001', payTo: '0xseller' } } });
const buyer = await rail.buyer('bench', { balance: '1000' });
await bench(
  'x402 purchase: 402 probe + sign + verify + settle over HTTP',
  async () => {
    const r = await buyer.purchase(rail.seller.urlOf('/r'));
    if (r.status !== 200) throw new Error(`status ${r.status}`);
  },
  { iterations: 500, warmup: 50 },
);
await rail.close();
