import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

it('holds the payment while the webhook approval is pending, takes only the signed verdict, captures once', () => {
  const out = execFileSync(process.execPath, [fileURLToPath(new URL('./index.mjs', import.meta.url))], {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1' },
    timeout: 15_000,
  });
  expect(out.trim().split('\n')).toEqual([
    'authorize 250.00 USDC → require_approval (approval_required_above)',
    'webhook delivered and verified: 250.000000 USDC to https://vendor.example/invoices/4711, why: approval_required_above',
    'approval pending; budget spent 0.000000, held 250.000000, remaining 750.000000 USDC',
    'unsigned callback (mallory approves) → 401 missing_header',
    "unsigned delivery to the approvers' service → 401 missing_header",
    'approval pending; budget spent 0.000000, held 250.000000, remaining 750.000000 USDC',
    "carol's signed verdict → 200 approved",
    "carol's verdict altered in transit (approve → reject) → 401 signature_mismatch",
    'approval approved by carol via webhook',
    'complete → allow: Approved at level default by carol (webhook) at 2026-11-21T09:02:00.000Z: "budgeted for Q4"',
    'capture → captured 250.000000 USDC; budget spent 250.000000, held 0.000000, remaining 750.000000 USDC',
    "carol's verdict replayed → 409 vote_refused (ERR_BURSAR_APPROVAL_NOT_PENDING)",
  ]);
});
