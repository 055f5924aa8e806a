// A payment above the approval threshold goes to a webhook channel. The approvers' service (a
// small receiver on 127.0.0.1) verifies Bursar's HMAC signature, lets a human decide, and calls
// back with a signed verdict; your app hands each callback to the ApprovalManager, which refuses
// unsigned or altered ones. Both sides read one ManualClock, so signatures are in tolerance.
import { once } from 'node:events';
import { createServer } from 'node:http';
import {
  ApprovalManager,
  allowAll,
  dailyBudget,
  PolicyEngine,
  requireApprovalAbove,
  SIGNATURE_HEADER,
  signWebhook,
  verifyWebhook,
  webhookChannel,
} from '@bursar/control';
import { ManualClock } from '@bursar/core';

const clock = new ManualClock('2026-11-21T09:00:00Z');
const secret = 'example-webhook-secret-change-me'; // shared by Bursar and the approvers' service

const readBody = async (req) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body;
};
const listen = async (server) => {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `http://127.0.0.1:${server.address().port}`;
};
const deferred = () => {
  let resolve;
  const promise = new Promise((r) => {
    resolve = r;
  });
  return { promise, resolve };
};

// ── Your app: receives verdicts and hands them to the manager ───────────────────────────────
const app = createServer(async (req, res) => {
  const result = await approvals.handleWebhookCallback({
    header: req.headers[SIGNATURE_HEADER],
    body: await readBody(req),
  });
  res.writeHead(result.status, { 'content-type': 'application/json' }).end(JSON.stringify(result));
});
const callbackUrl = `${await listen(app)}/bursar/approvals/callback`;

/** POSTs a verdict to your app's callback URL; returns its answer as `<status> <outcome>`. */
async function callBack(body, header) {
  const res = await fetch(callbackUrl, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(header ? { [SIGNATURE_HEADER]: header } : {}) },
    body,
  });
  const answer = await res.json();
  return `${res.status} ${answer.ok ? answer.approval.status : `${answer.reason}${answer.code ? ` (${answer.code})` : ''}`}`;
}

// ── The approvers' service (normally elsewhere) ─────────────────────────────────────────────
const delivered = deferred(); // the request it received
const humanVerdict = deferred(); // what the human decides
const calledBack = deferred(); // the signed verdict it sent, and your app's answer
const receiver = createServer(async (req, res) => {
  const body = await readBody(req);
  const checked = verifyWebhook({
    secrets: [secret],
    header: req.headers[SIGNATURE_HEADER],
    body,
    now: clock.now(),
  });
  if (!checked.ok) {
    res
      .writeHead(401, { 'content-type': 'application/json' })
      .end(JSON.stringify({ refused: checked.reason }));
    return;
  }
  res.writeHead(204).end();
  const { request } = JSON.parse(body);
  delivered.resolve(request);
  const { approver, approve, reason } = await humanVerdict.promise;
  const verdict = JSON.stringify({ approvalId: request.id, approver, approve, reason });
  const header = signWebhook({ secret, body: verdict, now: clock.now() });
  calledBack.resolve({ approver, verdict, header, answer: await callBack(verdict, header) });
});
const receiverUrl = await listen(receiver);

// ── Bursar ──────────────────────────────────────────────────────────────────────────────────
const approvals = new ApprovalManager({
  channels: [webhookChannel({ url: `${receiverUrl}/bursar`, secrets: [secret] })],
  sweepIntervalMs: 0,
});
const engine = new PolicyEngine({ clock, approvals });
engine.loadPolicy({
  id: 'production',
  version: '2026-11-21',
  rules: [requireApprovalAbove(100, 'USDC'), allowAll()],
  budgets: [dailyBudget(1000, 'USDC', { id: 'daily-usdc' })],
});
const budget = async () => {
  const [s] = await engine.getBudgetStatus({ budgetId: 'daily-usdc' });
  return `spent ${s.spent}, held ${s.held}, remaining ${s.remaining} ${s.currency}`;
};

try {
  const intent = {
    agentId: 'research-bot',
    amount: '250.00',
    currency: 'USDC',
    recipient: 'https://vendor.example/invoices/4711',
    protocol: 'x402',
  };
  const decision = await engine.authorize(intent);
  console.log(`authorize 250.00 USDC → ${decision.outcome} (${decision.reasons[0].code})`);
  const id = decision.approvalId;

  const request = await delivered.promise;
  console.log(
    `webhook delivered and verified: ${request.amount} ${request.currency} to ${request.recipient}, why: ${request.reasons.map((r) => r.code).join(', ')}`,
  );
  console.log(`approval ${(await approvals.get(id)).status}; budget ${await budget()}`);

  // Someone who does not hold the secret tries to approve it, and to fake a delivery.
  const forged = JSON.stringify({ approvalId: id, approver: 'mallory', approve: true });
  console.log(`unsigned callback (mallory approves) → ${await callBack(forged)}`);
  const fake = await fetch(`${receiverUrl}/bursar`, {
    method: 'POST',
    body: '{"type":"approval.requested"}',
  });
  console.log(`unsigned delivery to the approvers' service → ${fake.status} ${(await fake.json()).refused}`);
  console.log(`approval ${(await approvals.get(id)).status}; budget ${await budget()}`);

  // Carol approves two minutes later; the service signs her verdict and calls back.
  clock.advance(2 * 60_000);
  humanVerdict.resolve({ approver: 'carol', approve: true, reason: 'budgeted for Q4' });
  const back = await calledBack.promise;
  console.log(`${back.approver}'s signed verdict → ${back.answer}`);
  // A relay that flips her verdict into a rejection breaks the signature.
  const flipped = back.verdict.replace('"approve":true', '"approve":false');
  console.log(
    `carol's verdict altered in transit (approve → reject) → ${await callBack(flipped, back.header)}`,
  );
  const view = await approvals.waitFor(id, { timeoutMs: 5_000 });
  console.log(
    `approval ${view.status} by ${view.votes.map((v) => `${v.approver} via ${v.channel}`).join(', ')}`,
  );

  const final = await approvals.complete(id, intent); // policy checked again, for exactly this intent
  console.log(`complete → ${final.outcome}: ${final.reasons[0].message}`);
  const captured = await engine.capture(final.holdId);
  console.log(
    `capture → ${captured.state} ${captured.captured} ${captured.currency}; budget ${await budget()}`,
  );

  // The same genuine verdict, sent again, changes nothing.
  console.log(`carol's verdict replayed → ${await callBack(back.verdict, back.header)}`);
} finally {
  await approvals.close();
  app.closeAllConnections();
  receiver.closeAllConnections();
  await Promise.all([new Promise((r) => app.close(r)), new Promise((r) => receiver.close(r))]);
}
