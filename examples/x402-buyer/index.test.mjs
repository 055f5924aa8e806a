import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('pays within the budget and refuses, before signing, the prices the budget cannot take', () => {
  const out = execFileSync(process.execPath, [fileURLToPath(new URL('./index.mjs', import.meta.url))], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 15_000,
  });
  const purchases = out
    .split('\n')
    .filter((l) => l.startsWith('GET '))
    .map((l) => l.replace(/\s+/g, ' '));
  expect(purchases).toEqual([
    'GET /weather HTTP 200 | charged 0.010000 USDC | signed so far 1 | daily spent 0.010000',
    'GET /report HTTP 200 | charged 0.400000 USDC | signed so far 2 | daily spent 0.410000',
    'GET /report HTTP 200 | charged 0.400000 USDC | signed so far 3 | daily spent 0.810000',
    'GET /report refused before signing: budget_exceeded | charged 0.000000 USDC | signed so far 3 | daily spent 0.810000',
    'GET /dataset refused before signing: transaction_limit_exceeded | charged 0.000000 USDC | signed so far 3 | daily spent 0.810000',
  ]);
  expect(out).toContain(
    'Budget daily (daily, global): 0.810000 used + 0.000000 held + 0.400000 requested exceeds the limit of 1.000000 USDC',
  );
  expect(out).toContain(
    'Budget per-payment: 5.000000 USDC is above the per-transaction limit of 0.500000 USDC',
  );
  expect(out).toContain('payments signed: 3, waiting for reconciliation: 0');
  expect(out).toContain('seller: facilitator verify 3, settle 3');
  expect(out).toContain('seller: route handler runs 3');
  expect(out).toContain('ledger: buyer paid 0.810000 USDC in 3 settlements');
  expect(out).toContain('ledger: buyer balance 9.190000 USDC');
  expect(out).toContain(
    'budget daily (daily): limit 1.000000, spent 0.810000, held 0.000000, remaining 0.190000 USDC',
  );
});
