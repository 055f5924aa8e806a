import { allowAll, blockRecipients, dailyBudget } from '@bursar/control';
import { defineScenario } from '../runner/scenario.js';
import { MINUTE } from './common.js';

/** A mandate that allows a bad payee does not make the payee acceptable. */
export const blockedRecipient = defineScenario({
  id: 'blocked-recipient',
  title: 'Blocked recipient',
  summary:
    "The user's AP2 mandate lists a payee the company has blocked; Bursar refuses it (and its subdomains) before the credential provider is asked, and pays the others.",
  policy: {
    id: 'payees',
    rules: [blockRecipients(['https://*.drain.example/*', 'https://drain.example/*']), allowAll()],
    budgets: [dailyBudget(200, 'USD', { scope: 'agent' })],
  },
  async script(ctx) {
    const ap2 = ctx.ap2();
    const payees = [
      'https://maps.example.com/v1',
      'https://drain.example/pay',
      'https://pay.drain.example/checkout',
      'https://translate.example.com/v2',
    ];
    const mandate = ap2.openMandate({
      holder: 'travel-bot',
      currency: 'USD',
      payees,
      maxAmount: '50',
      budget: '150',
      expiresAt: ctx.clock.now() + 86_400_000,
    });
    for (const [i, payee] of payees.entries()) {
      await ap2.pay('travel-bot', mandate, payee, `${12 + i * 3}.00`);
      await ctx.advance(MINUTE);
    }
    ctx.fact('providerPayments', ap2.provider.status(mandate.mandate.id).payments);
  },
  expect: {
    allowed: 2,
    blocked: 2,
    charged: { USD: '33.00' },
    reasons: ['recipient_blocked'],
    check: (o) =>
      o.facts.providerPayments === 2 ? [] : ['the provider should have paid exactly two payments'],
  },
});
