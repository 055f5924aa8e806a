import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('settles the small payment, refuses the one above the block rule and the replays, charges once', () => {
  const out = execFileSync(process.execPath, [fileURLToPath(new URL('./index.mjs', import.meta.url))], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 15_000,
  });
  const answers = out
    .split('\n')
    .filter((l) => l.startsWith('GET '))
    .map((l) => l.replace(/\s{2,}/g, ' | ').replace(/0x[0-9a-f]{8}…/, '0x…'));
  expect(answers).toEqual([
    'GET /weather (paid) | 200 | settled ok, transaction 0x…',
    'GET /bulk-export (paid) | 402 | refused: amount_above_limit (price 1500.000000 USDC)',
    'GET /weather (replay #1) | 402 | refused: replay (price 0.010000 USDC)',
    'GET /weather (replay #2) | 402 | refused: replay (price 0.010000 USDC)',
  ]);
  expect(out).toContain('payment.settled: 0.010000 USDC from acme, source facilitator (local)');
  expect(out.match(/payment\.settled/g)).toHaveLength(1);
  expect(out).toContain('payment headers sent by the buyer: 2');
  // The refused 1,500 USDC payment never reached the facilitator; the replays neither.
  expect(out).toContain('facilitator calls: verify 1, settle 1');
  expect(out).toContain('route handler runs: 1');
  expect(out).toContain('ledger settlements: 1');
  expect(out).toContain('ledger balance buyer:  1999.990000 USDC');
  expect(out).toContain('ledger balance seller: 0.010000 USDC');
  expect(out).toContain(
    'budget daily-per-customer (agent:acme): spent 0.010000, held 0.000000, remaining 4.990000 USDC',
  );
});
