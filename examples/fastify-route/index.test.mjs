import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('answers each request over real HTTP as the policy decides; the opted-out route is not checked', () => {
  const out = execFileSync(process.execPath, [fileURLToPath(new URL('./index.mjs', import.meta.url))], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 15_000,
  });
  const requests = out
    .split('\n')
    .filter((l) => / USDC {2}\d{3} {2}/.test(l))
    .map((l) => l.trim().split(/\s+/));
  expect(requests.map(([agent, amount, , status]) => `${agent} ${amount} ${status}`)).toEqual([
    'research-bot 12.50 200',
    'research-bot 5.00 403',
    'research-bot 75.00 202',
    'research-bot 75.00 200',
    'research-bot 20.00 403',
    'chatty-bot 1.00 200',
    'chatty-bot 1.00 200',
    'chatty-bot 1.00 429',
  ]);
  expect(out).toContain('200  paid 12.50 USDC; captured 12.500000');
  expect(out).toContain('403  policy_denied: recipient_blocked');
  expect(out).toMatch(/202 {2}pending, approval apr_/);
  expect(out).toContain('GET statusUrl → 200 pending; held 75.000000 USDC');
  expect(out).toContain('alice votes on the dashboard → approved');
  expect(out).toContain('200  paid 75.00 USDC; captured 75.000000');
  expect(out).toContain('403  policy_denied: budget_exceeded');
  expect(out).toContain('429  rate_limited: rate_limit_exceeded; Retry-After: 900 s');
  expect(out).toContain('POST /pay without a token → 401 unauthenticated');
  expect(out).toContain('GET /health (config.bursar: false) → 200 {"ok":true,"checked":false}');
  expect(out).toContain(
    'budget daily-usdc (agent:research-bot): spent 87.500000, held 0.000000, remaining 12.500000 USDC',
  );
  expect(out).toContain(
    'budget daily-usdc (agent:chatty-bot): spent 2.000000, held 0.000000, remaining 98.000000 USDC',
  );
  expect(out).toContain(
    'rate limit chatty-hourly (agent:chatty-bot): 2 of 2 used, window ends 2026-11-21T10:00:00.000Z',
  );
});
