// A buyer agent with a budget. Its x402Client is guarded by Bursar, so every price is checked
// against the agent's policy before anything is signed. The seller is local and offline: the
// test scheme of @bursar/x402/testing, a facilitator on 127.0.0.1 and @x402/express.
import { once } from 'node:events';
import { allowAll, dailyBudget, PolicyEngine, perTransactionLimit } from '@bursar/control';
import { ManualClock, Money } from '@bursar/core';
import { guardX402Client } from '@bursar/x402';
import { createTestScheme, serveFacilitator, TEST_SCHEME } from '@bursar/x402/testing';
import { x402Client } from '@x402/core/client';
import { x402Facilitator } from '@x402/core/facilitator';
import { HTTPFacilitatorClient, x402HTTPResourceServer, x402ResourceServer } from '@x402/core/server';
import { paymentMiddlewareFromHTTPServer } from '@x402/express';
import { wrapFetchWithPayment } from '@x402/fetch';
import express from 'express';

const clock = new ManualClock('2026-11-21T09:00:00Z');
const usdc = (atomic) => `${Money.fromAtomic(String(atomic), 'USDC').toDecimalString()} USDC`;

// ── The seller (plain x402, no Bursar on this side) ─────────────────────────────────────────
const scheme = createTestScheme({ clock });
const sellerWallet = scheme.ledger.createWallet(0n);
const facilitator = await serveFacilitator(
  new x402Facilitator().register(scheme.network, scheme.facilitator),
);
const server = new x402ResourceServer(new HTTPFacilitatorClient({ url: facilitator.url })).register(
  scheme.network,
  scheme.server,
);
const accepts = (price) => ({
  scheme: TEST_SCHEME,
  network: scheme.network,
  payTo: sellerWallet.address,
  price,
});
const http = new x402HTTPResourceServer(server, {
  'GET /weather': { accepts: accepts('$0.01') },
  'GET /report': { accepts: accepts('$0.40') },
  'GET /dataset': { accepts: accepts('$5.00') },
});
await http.initialize();
const served = { count: 0 };
const app = express();
app.use(paymentMiddlewareFromHTTPServer(http, undefined, undefined, false));
for (const path of ['/weather', '/report', '/dataset']) {
  app.get(path, (_req, res) => {
    served.count++;
    res.json({ path });
  });
}
const listener = app.listen(0, '127.0.0.1');
await once(listener, 'listening');
const base = `http://127.0.0.1:${listener.address().port}`;

// ── The buyer agent ─────────────────────────────────────────────────────────────────────────
// Its policy: at most 0.50 USDC per payment and 1 USDC a day.
const engine = new PolicyEngine({ clock });
engine.loadPolicy({
  id: 'agent',
  version: '2026-11-21',
  rules: [allowAll()],
  budgets: [
    perTransactionLimit('0.50', 'USDC', { id: 'per-payment' }),
    dailyBudget(1, 'USDC', { id: 'daily' }),
  ],
});
const wallet = scheme.ledger.createWallet(10_000_000n); // 10 USDC
const client = new x402Client().register(scheme.network, scheme.client(wallet));
client.setSpendControls(false); // the policy is the cap
const buyer = guardX402Client(client, { engine, agentId: 'research-bot', clock });
let signed = 0;
client.onAfterPaymentCreation(async () => {
  signed++;
});
const paidFetch = wrapFetchWithPayment(fetch, client);

async function buy(path) {
  const before = scheme.ledger.paidBy(wallet.address);
  let outcome;
  let why = '';
  try {
    const res = await paidFetch(`${base}${path}`);
    outcome = `HTTP ${res.status}`;
  } catch (error) {
    // "Failed to create payment payload: Payment creation aborted: <code>: <message>"
    const match = /aborted: ([a-z_]+): (.*)$/.exec(error.message);
    if (!match) throw error;
    const [, code, message] = match;
    outcome = `refused before signing: ${code}`;
    why = `\n  ${message}`;
  }
  const charged = usdc(scheme.ledger.paidBy(wallet.address) - before);
  const [daily] = await engine.getBudgetStatus({ budgetId: 'daily' });
  console.log(
    `GET ${path.padEnd(9)} ${outcome} | charged ${charged} | signed so far ${signed} | daily spent ${daily.spent}${why}`,
  );
}

try {
  await buy('/weather');
  await buy('/report');
  await buy('/report');
  await buy('/report'); // 0.81 spent + 0.40 would pass the 1 USDC daily budget
  await buy('/dataset'); // 5 USDC is above the 0.50 USDC per-payment limit

  console.log('');
  console.log(`payments signed: ${signed}, waiting for reconciliation: ${buyer.pending().length}`);
  console.log(`seller: facilitator verify ${facilitator.calls.verify}, settle ${facilitator.calls.settle}`);
  console.log(`seller: route handler runs ${served.count}`);
  console.log(
    `ledger: buyer paid ${usdc(scheme.ledger.paidBy(wallet.address))} in ${scheme.ledger.settlements.length} settlements`,
  );
  console.log(`ledger: buyer balance ${usdc(scheme.ledger.balanceOf(wallet.address))}`);
  for (const s of await engine.getBudgetStatus({ agentId: 'research-bot' })) {
    console.log(
      `budget ${s.budgetId} (${s.window}): limit ${s.limit}, spent ${s.spent}, held ${s.held}, remaining ${s.remaining} ${s.currency}`,
    );
  }
} finally {
  listener.closeAllConnections();
  await new Promise((resolve) => listener.close(resolve));
  await facilitator.close();
}
