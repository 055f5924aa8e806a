import { describe, expect, it } from 'vitest';
import { signWebhook, verifyWebhook } from './signing.js';

const secret = 'whsec_0123456789abcdef';
const body = '{"approvalId":"apr_1","verdict":"approve"}';
const now = Date.parse('2026-06-01T12:00:00Z');

describe('webhook signing', () => {
  it('verifies its own signature', () => {
    const header = signWebhook({ secret, body, now });
    expect(verifyWebhook({ secrets: [secret], header, body, now })).toEqual({ ok: true, timestamp: now });
  });

  it('rejects a changed body or a wrong secret', () => {
    const header = signWebhook({ secret, body, now });
    expect(
      verifyWebhook({ secrets: [secret], header, body: body.replace('approve', 'reject'), now }),
    ).toEqual({ ok: false, reason: 'signature_mismatch' });
    expect(verifyWebhook({ secrets: ['whsec_other_secret_000'], header, body, now })).toEqual({
      ok: false,
      reason: 'signature_mismatch',
    });
  });

  it('enforces the 5-minute tolerance in both directions', () => {
    const old = signWebhook({ secret, body, now: now - 5 * 60_000 - 1000 });
    const future = signWebhook({ secret, body, now: now + 5 * 60_000 + 1000 });
    const edge = signWebhook({ secret, body, now: now - 5 * 60_000 });
    expect(verifyWebhook({ secrets: [secret], header: old, body, now })).toEqual({
      ok: false,
      reason: 'timestamp_out_of_tolerance',
    });
    expect(verifyWebhook({ secrets: [secret], header: future, body, now })).toEqual({
      ok: false,
      reason: 'timestamp_out_of_tolerance',
    });
    expect(verifyWebhook({ secrets: [secret], header: edge, body, now }).ok).toBe(true);
  });

  it('accepts any active secret during rotation', () => {
    const oldSecret = 'whsec_old_0000000000';
    const header = signWebhook({ secret: oldSecret, body, now });
    expect(verifyWebhook({ secrets: [secret, oldSecret], header, body, now }).ok).toBe(true);
    expect(verifyWebhook({ secrets: [secret], header, body, now }).ok).toBe(false);
  });

  it.each([
    [undefined, 'missing_header'],
    ['', 'missing_header'],
    ['v1=abc', 'malformed_header'],
    ['t=123', 'malformed_header'],
    ['t=abc,v1=' + 'a'.repeat(64), 'malformed_header'],
  ])('rejects header %j as %s', (header, reason) => {
    expect(verifyWebhook({ secrets: [secret], header, body, now })).toEqual({ ok: false, reason });
  });

  it('refuses weak secrets when signing', () => {
    expect(() => signWebhook({ secret: 'short', body, now })).toThrow(/at least 16/);
  });
});
