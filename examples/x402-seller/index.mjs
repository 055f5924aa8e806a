// An x402 seller end to end, offline: a facilitator on 127.0.0.1, an @x402/core resource
// server guarded by Bursar behind @x402/express, and a buyer paying with @x402/fetch. Money
// moves on the test ledger of @bursar/x402/testing (no chain, no internet).
import { once } from 'node:events';
import { allowAll, blockAbove, dailyBudget, PolicyEngine } from '@bursar/control';
import { ManualClock, Money } from '@bursar/core';
import { createX402Guard, guardFacilitator } from '@bursar/x402';
import { createTestScheme, serveFacilitator, TEST_SCHEME } from '@bursar/x402/testing';
import { x402Client } from '@x402/core/client';
import { x402Facilitator } from '@x402/core/facilitator';
import { decodePaymentRequiredHeader, decodePaymentResponseHeader } from '@x402/core/http';
import { HTTPFacilitatorClient, x402HTTPResourceServer, x402ResourceServer } from '@x402/core/server';
import { paymentMiddlewareFromHTTPServer } from '@x402/express';
import { wrapFetchWithPayment } from '@x402/fetch';
import express from 'express';

const clock = new ManualClock('2026-11-21T09:00:00Z');
const usdc = (atomic) => `${Money.fromAtomic(String(atomic), 'USDC').toDecimalString()} USDC`;

// The seller's policy: nothing above 1,000 USDC in one payment, 5 USDC a day per customer.
const engine = new PolicyEngine({ clock });
engine.loadPolicy({
  id: 'sales',
  version: '2026-11-21',
  rules: [blockAbove(1000, 'USDC'), allowAll()],
  budgets: [dailyBudget(5, 'USDC', { id: 'daily-per-customer', scope: 'agent' })],
});

// The stand-in chain, the facilitator (over HTTP on 127.0.0.1) and two wallets.
const scheme = createTestScheme({ clock });
const buyerWallet = scheme.ledger.createWallet(2_000_000_000n); // 2,000 USDC
const sellerWallet = scheme.ledger.createWallet(0n);
const facilitator = await serveFacilitator(
  new x402Facilitator().register(scheme.network, scheme.facilitator),
);

// The facilitator client behind a circuit breaker (so results name their source), and the
// resource server, guarded before any other hook; payers map to customer ids.
const facilitatorClient = guardFacilitator(new HTTPFacilitatorClient({ url: facilitator.url }), {
  names: ['local'],
  clock,
  events: engine.events,
});
const customers = new Map([[buyerWallet.address, 'acme']]);
const server = new x402ResourceServer(facilitatorClient).register(scheme.network, scheme.server);
createX402Guard({ engine, clock, resolveAgent: ({ payer }) => customers.get(payer) ?? payer }).attach(server);
const accepts = (price) => ({
  scheme: TEST_SCHEME,
  network: scheme.network,
  payTo: sellerWallet.address,
  price,
});
const http = new x402HTTPResourceServer(server, {
  'GET /weather': { accepts: accepts('$0.01'), description: 'today’s weather' },
  'GET /bulk-export': { accepts: accepts('$1500'), description: 'the whole data set' },
});
await http.initialize();

const served = { count: 0 };
const app = express();
app.use(paymentMiddlewareFromHTTPServer(http, undefined, undefined, false));
app.get('/weather', (_req, res) => {
  served.count++;
  res.json({ sunny: true });
});
app.get('/bulk-export', (_req, res) => {
  served.count++;
  res.json({ rows: 1_000_000 });
});
const listener = app.listen(0, '127.0.0.1');
await once(listener, 'listening');
const base = `http://127.0.0.1:${listener.address().port}`;

// The buyer: @x402/fetch over an x402Client, recording each payment header it sends. It has
// no cap of its own (spend controls off), so the seller's policy is what stops it.
const sentHeaders = [];
const recording = async (input, init) => {
  const request = new Request(input, init);
  const header = request.headers.get('payment-signature');
  if (header) sentHeaders.push(header);
  return fetch(request);
};
const client = new x402Client().register(scheme.network, scheme.client(buyerWallet));
client.setSpendControls(false);
const paidFetch = wrapFetchWithPayment(recording, client);

function show(label, res) {
  const required = res.headers.get('payment-required');
  const receipt = res.headers.get('payment-response');
  let detail = '';
  if (res.status === 200 && receipt) {
    const settled = decodePaymentResponseHeader(receipt);
    detail = `settled ${settled.success ? 'ok' : 'failed'}, transaction ${settled.transaction.slice(0, 10)}…`;
  } else if (required) {
    const answer = decodePaymentRequiredHeader(required);
    detail = `refused: ${answer.error} (price ${usdc(answer.accepts[0].amount)})`;
  }
  console.log(`${label.padEnd(34)} ${res.status}  ${detail}`);
}

const settledEvents = [];
engine.events.on('payment.settled', (e) => {
  settledEvents.push(e);
});

try {
  show('GET /weather (paid)', await paidFetch(`${base}/weather`));
  show('GET /bulk-export (paid)', await paidFetch(`${base}/bulk-export`));
  // The first payment header again, as a retrying or malicious client would send it.
  for (let i = 1; i <= 2; i++) {
    const replay = await fetch(`${base}/weather`, { headers: { 'payment-signature': sentHeaders[0] } });
    show(`GET /weather (replay #${i})`, replay);
  }

  console.log('');
  for (const e of settledEvents) {
    console.log(
      `payment.settled: ${e.amount} ${e.currency} from ${e.agentId}, source ${e.source}${e.facilitator ? ` (${e.facilitator})` : ''}`,
    );
  }
  console.log(`payment headers sent by the buyer: ${sentHeaders.length}`);
  console.log(`facilitator calls: verify ${facilitator.calls.verify}, settle ${facilitator.calls.settle}`);
  console.log(`route handler runs: ${served.count}`);
  console.log(`ledger settlements: ${scheme.ledger.settlements.length}`);
  console.log(`ledger balance buyer:  ${usdc(scheme.ledger.balanceOf(buyerWallet.address))}`);
  console.log(`ledger balance seller: ${usdc(scheme.ledger.balanceOf(sellerWallet.address))}`);
  const [s] = await engine.getBudgetStatus({ agentId: 'acme' });
  console.log(
    `budget ${s.budgetId} (${s.scope}): spent ${s.spent}, held ${s.held}, remaining ${s.remaining} ${s.currency}`,
  );
} finally {
  listener.closeAllConnections();
  await new Promise((resolve) => listener.close(resolve));
  await facilitator.close();
}
