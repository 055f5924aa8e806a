import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('prints the engine decision for every payment and the exact budget left', () => {
  const out = execFileSync(process.execPath, [fileURLToPath(new URL('./index.mjs', import.meta.url))], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
  });
  const outcomes = out
    .split('\n')
    .filter((l) => l.includes(' USDC  '))
    .map((l) => l.trim().split(/\s+/)[3]);
  expect(outcomes).toEqual(['allow', 'allow', 'require_approval', 'deny', 'deny', 'deny']);
  expect(out).toContain('recipient_blocked');
  expect(out).toContain('budget_exceeded');
  expect(out).toContain('budget daily-usdc: spent 25.100000, held 120.000000, remaining 4.900000 USDC');
});
