// An agent's tools under policy: guard() around plain functions, protectTools() around a
// LangChain.js tool. A denied call never runs; it throws PolicyDeniedError with the reasons.
import {
  allowAll,
  blockRecipients,
  dailyBudget,
  guard,
  PolicyDeniedError,
  PolicyEngine,
  protectTools,
} from '@bursar/control';
import { ManualClock } from '@bursar/core';
import { tool } from '@langchain/core/tools';
import { z } from 'zod';

const clock = new ManualClock('2026-11-21T09:00:00Z');
const engine = new PolicyEngine({ clock });
engine.loadPolicy({
  id: 'agent-tools',
  version: '2026-11-21',
  rules: [
    // Tool calls without a recipient are not about this list.
    blockRecipients(['acct_evil*'], { onMissing: 'no_match' }),
    {
      id: 'no-destructive',
      action: 'deny',
      code: 'destructive_tool',
      when: { action: ['delete_*', 'drop_*'] },
    },
    allowAll(),
  ],
  budgets: [dailyBudget(50, 'USDC', { id: 'daily-usdc' })],
});

// The real work each tool does (here: recorded, so the output shows what actually ran).
const runs = { search_web: 0, transfer: 0, delete_records: 0, buy_credits: 0 };

// ── Plain functions, guarded ────────────────────────────────────────────────────────────────
const agentId = 'ops-bot';
const searchWeb = guard(
  async function search_web({ query }) {
    runs.search_web++;
    return `3 results for "${query}"`;
  },
  { engine, agentId },
);
const transfer = guard(
  async function transfer({ to, amount }) {
    runs.transfer++;
    return `sent ${amount} USDC to ${to}`;
  },
  { engine, agentId, mapArgs: ({ to, amount }) => ({ amount, currency: 'USDC', recipient: to }) },
);
const deleteRecords = guard(
  async function delete_records({ table }) {
    runs.delete_records++;
    return `deleted every row of ${table}`;
  },
  { engine, agentId },
);

// ── A LangChain.js tool, protected ──────────────────────────────────────────────────────────
const buyCredits = tool(
  async ({ vendor, amount }) => {
    runs.buy_credits++;
    return `bought ${amount} USDC of credits at ${vendor}`;
  },
  {
    name: 'buy_credits',
    description: 'Buy API credits from a vendor',
    schema: z.object({ vendor: z.string(), amount: z.string() }),
  },
);
const [safeBuyCredits] = protectTools([buyCredits], {
  engine,
  agentId,
  mapArgs: { buy_credits: (input) => ({ amount: input.amount, currency: 'USDC', recipient: input.vendor }) },
});

async function call(label, run) {
  let line;
  try {
    line = `ran: ${await run()}`;
  } catch (error) {
    if (!PolicyDeniedError.isInstance(error)) throw error;
    const reason = error.decision.reasons.find((r) => r.outcome === 'deny');
    line = `${error.name} ${error.code} (${error.status}): ${reason.code}`;
  }
  const [daily] = await engine.getBudgetStatus({ budgetId: 'daily-usdc' });
  console.log(`${label.padEnd(48)} → ${line}  [spent ${daily.spent}, remaining ${daily.remaining}]`);
}

const vendor = 'https://credits.example/buy';
await call('search_web({ query: "usdc fees" })', () => searchWeb({ query: 'usdc fees' }));
await call("transfer({ to: 'acct_1', amount: '20.00' })", () => transfer({ to: 'acct_1', amount: '20.00' }));
await call("transfer({ to: 'acct_evil_9', amount: '5.00' })", () =>
  transfer({ to: 'acct_evil_9', amount: '5.00' }),
);
await call("delete_records({ table: 'invoices' })", () => deleteRecords({ table: 'invoices' }));
await call("buy_credits.invoke({ amount: '25.00' })", () =>
  safeBuyCredits.invoke({ vendor, amount: '25.00' }),
);
await call("buy_credits.invoke({ amount: '10.00' })", () =>
  safeBuyCredits.invoke({ vendor, amount: '10.00' }),
);
await call("transfer({ to: 'acct_2', amount: '5.00' })", () => transfer({ to: 'acct_2', amount: '5.00' }));
await call("buy_credits.invoke({ amount: '0.01' })", () => safeBuyCredits.invoke({ vendor, amount: '0.01' }));

console.log('');
console.log(
  `functions that really ran: ${Object.entries(runs)
    .map(([name, n]) => `${name} ${n}`)
    .join(', ')}`,
);
const [daily] = await engine.getBudgetStatus({ budgetId: 'daily-usdc' });
console.log(
  `budget ${daily.budgetId}: spent ${daily.spent}, held ${daily.held}, remaining ${daily.remaining} ${daily.currency}`,
);
