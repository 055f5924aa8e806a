// A Fastify 5 app with Bursar's policyPlugin: every route of the app is under policy except
// the one that opts out through its route config. The script listens on 127.0.0.1 (an
// ephemeral port), sends real requests, and prints each HTTP answer and the budget afterwards.
import {
  ApprovalManager,
  allowAll,
  blockRecipients,
  createOperator,
  dailyBudget,
  PolicyEngine,
  rateLimit,
  requireApprovalAbove,
} from '@bursar/control';
import { policyPlugin } from '@bursar/control/fastify';
import { ManualClock } from '@bursar/core';
import Fastify from 'fastify';

const clock = new ManualClock('2026-11-21T09:45:00Z');
const dashboard = createOperator({ actor: 'dashboard' }); // operator-side only, never the agent's
const approvals = new ApprovalManager({ sweepIntervalMs: 0 });
const engine = new PolicyEngine({ clock, approvals, operators: [dashboard] });
engine.loadPolicy({
  id: 'api',
  version: '2026-11-21',
  rules: [blockRecipients(['https://evil.example/*']), requireApprovalAbove(50, 'USDC'), allowAll()],
  budgets: [dailyBudget(100, 'USDC', { id: 'daily-usdc', scope: 'agent' })],
  rateLimits: [
    rateLimit({
      id: 'chatty-hourly',
      scope: 'agent',
      window: 'hourly',
      maxCount: 2,
      when: { agent: 'chatty-*' },
    }),
  ],
});

// Your authentication: here a fixed table of API tokens. The agent id never comes from the body.
const tokens = new Map([
  ['tok_research', 'research-bot'],
  ['tok_chatty', 'chatty-bot'],
]);

const app = Fastify({ logger: false });
app.decorateRequest('auth', null);
app.addHook('onRequest', async (request) => {
  const agentId = tokens.get(request.headers.authorization?.replace(/^Bearer /, '') ?? '');
  if (agentId) request.auth = { agentId };
});
await app.register(policyPlugin, { engine, approvals }); // also serves GET /bursar/approvals/:id
app.post('/pay', async (request) => ({
  // The payment rail would run here; a 2xx answer captures the hold.
  paid: request.bursar.intent.amount.format(),
  to: request.bursar.intent.recipient,
}));
// Opted out: no identity, no body, no hold. `request.bursar` stays null.
app.get('/health', { config: { bursar: false } }, async (request) => ({
  ok: true,
  checked: request.bursar !== null,
}));
await app.listen({ host: '127.0.0.1', port: 0 });
const base = `http://127.0.0.1:${app.server.address().port}`;

/** The next `hold.captured` event (the plugin captures when a 2xx response finishes). */
const nextCapture = () =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no capture within 2 s')), 2000);
    engine.events.once('hold.captured', (e) => {
      clearTimeout(timer);
      resolve(e);
    });
  });

async function pay(token, amount, recipient, headers = {}) {
  const res = await fetch(`${base}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}`, ...headers },
    body: JSON.stringify({ amount, currency: 'USDC', recipient }),
  });
  return { res, body: await res.json() };
}

function show(agent, amount, { res, body }, extra = '') {
  const detail =
    res.status === 200
      ? `paid ${body.paid}`
      : res.status === 202
        ? `${body.status}, approval ${body.approvalId.slice(0, 8)}…`
        : `${body.error.code}: ${body.error.decision?.reasons.find((r) => r.outcome === 'deny')?.code ?? ''}`;
  console.log(`${agent.padEnd(13)} ${amount.padStart(6)} USDC  ${res.status}  ${detail}${extra}`);
}

async function paid(token, agent, amount, recipient, headers) {
  const captured = nextCapture();
  const answer = await pay(token, amount, recipient, headers);
  show(agent, amount, answer, answer.res.status === 200 ? `; captured ${(await captured).captured}` : '');
  return answer;
}

try {
  await paid('tok_research', 'research-bot', '12.50', 'https://api.example.com/v1/chat');
  show('research-bot', '5.00', await pay('tok_research', '5.00', 'https://evil.example/drain'));

  // Above 50 USDC: 202 pending, the 75 USDC stay held while a human decides.
  const report = 'https://data.example.com/report';
  const pending = await pay('tok_research', '75.00', report);
  show('research-bot', '75.00', pending);
  const { approvalId, statusUrl } = pending.body;
  const status = await fetch(`${base}${statusUrl}`, { headers: { authorization: 'Bearer tok_research' } });
  const [held] = await engine.getBudgetStatus({ agentId: 'research-bot', budgetId: 'daily-usdc' });
  console.log(`  GET statusUrl → ${status.status} ${(await status.json()).status}; held ${held.held} USDC`);
  const voted = await approvals.vote(approvalId, {
    operator: dashboard,
    approver: 'alice',
    approve: true,
    reason: 'quarterly report',
  });
  console.log(`  alice votes on the dashboard → ${voted.status}`);
  // The agent sends the same request again, naming the approval.
  await paid('tok_research', 'research-bot', '75.00', report, { 'bursar-approval-id': approvalId });

  // 12.50 + 75.00 spent: 20 more would pass the 100 USDC daily budget.
  show('research-bot', '20.00', await pay('tok_research', '20.00', 'https://api.example.com/v1/chat'));

  // chatty-* agents may pay twice an hour.
  await paid('tok_chatty', 'chatty-bot', '1.00', 'https://api.example.com/v1/search');
  await paid('tok_chatty', 'chatty-bot', '1.00', 'https://api.example.com/v1/search');
  const limited = await pay('tok_chatty', '1.00', 'https://api.example.com/v1/search');
  show('chatty-bot', '1.00', limited, `; Retry-After: ${limited.res.headers.get('retry-after')} s`);

  // Without a token a checked route answers 401; the opted-out route answers anyway.
  const anonymous = await fetch(`${base}/pay`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ amount: '1.00', currency: 'USDC' }),
  });
  console.log(`POST /pay without a token → ${anonymous.status} ${(await anonymous.json()).error.code}`);
  const health = await fetch(`${base}/health`);
  console.log(`GET /health (config.bursar: false) → ${health.status} ${JSON.stringify(await health.json())}`);

  console.log('');
  for (const agentId of ['research-bot', 'chatty-bot']) {
    const [s] = await engine.getBudgetStatus({ agentId, budgetId: 'daily-usdc' });
    console.log(
      `budget ${s.budgetId} (${s.scope}): spent ${s.spent}, held ${s.held}, remaining ${s.remaining} ${s.currency}`,
    );
  }
  const [r] = await engine.getBudgetStatus({ agentId: 'chatty-bot', budgetId: 'chatty-hourly' });
  console.log(
    `rate limit ${r.budgetId} (${r.scope}): ${r.spent} of ${r.limit} used, window ends ${new Date(r.windowEnd).toISOString()}`,
  );
} finally {
  app.server.closeAllConnections();
  await app.close();
  await approvals.close();
}
