import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('runs allowed tool calls, refuses the others with PolicyDeniedError, and stops when the budget is spent', () => {
  const out = execFileSync(process.execPath, [fileURLToPath(new URL('./index.mjs', import.meta.url))], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 15_000,
  });
  const calls = out
    .split('\n')
    .filter((l) => l.includes(' → '))
    .map((l) => l.split(' → ')[1].replace(/\s+/g, ' '));
  expect(calls).toEqual([
    'ran: 3 results for "usdc fees" [spent 0.000000, remaining 50.000000]',
    'ran: sent 20.00 USDC to acct_1 [spent 20.000000, remaining 30.000000]',
    'PolicyDeniedError ERR_BURSAR_POLICY_DENIED (403): recipient_blocked [spent 20.000000, remaining 30.000000]',
    'PolicyDeniedError ERR_BURSAR_POLICY_DENIED (403): destructive_tool [spent 20.000000, remaining 30.000000]',
    'ran: bought 25.00 USDC of credits at https://credits.example/buy [spent 45.000000, remaining 5.000000]',
    'PolicyDeniedError ERR_BURSAR_POLICY_DENIED (403): budget_exceeded [spent 45.000000, remaining 5.000000]',
    'ran: sent 5.00 USDC to acct_2 [spent 50.000000, remaining 0.000000]',
    'PolicyDeniedError ERR_BURSAR_POLICY_DENIED (403): budget_exceeded [spent 50.000000, remaining 0.000000]',
  ]);
  // A denied call never reaches the function.
  expect(out).toContain(
    'functions that really ran: search_web 1, transfer 2, delete_records 0, buy_credits 1',
  );
  expect(out).toContain('budget daily-usdc: spent 50.000000, held 0.000000, remaining 0.000000 USDC');
});
