import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock/index.js';
import { BursarError, ErrorCode, type ValidationError } from '../errors/index.js';
import { parseIntent } from './intent.js';

function issuesOf(input: unknown): Array<{ path: string; message: string }> {
  try {
    parseIntent(input);
  } catch (e) {
    expect(BursarError.hasCode(e, ErrorCode.INVALID_INTENT)).toBe(true);
    return (e as ValidationError).issues;
  }
  throw new Error('expected a validation error');
}

const base = {
  agentId: 'research-bot',
  amount: '25.00',
  currency: 'usdc',
  recipient: 'https://api.example.com/v1/chat',
  protocol: 'x402' as const,
};

describe('parseIntent', () => {
  it('normalises a payment: exact money, canonical currency, clock time, hash', () => {
    const clock = new ManualClock('2026-03-01T10:00:00Z');
    const intent = parseIntent(base, { clock });
    expect(intent.action).toBe('payment');
    expect(intent.amount?.minor).toBe(25_000_000n);
    expect(intent.currency).toBe('USDC');
    expect(intent.createdAt).toBe(Date.parse('2026-03-01T10:00:00Z'));
    expect(intent.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(intent.id).toMatch(/^int_/);
    expect(Object.isFrozen(intent)).toBe(true);
  });

  it('hashes content, not key order, id, time or retry key', () => {
    const a = parseIntent({ ...base, params: { a: 1, b: 2 }, idempotencyKey: 'k1' });
    const b = parseIntent({
      params: { b: 2, a: 1 },
      protocol: 'x402',
      recipient: base.recipient,
      currency: 'USDC',
      amount: 25,
      agentId: 'research-bot',
      idempotencyKey: 'k2',
    });
    expect(a.hash).toBe(b.hash);
    expect(parseIntent({ ...base, amount: '25.01' }).hash).not.toBe(a.hash);
    expect(parseIntent({ ...base, recipient: 'https://evil.example.com' }).hash).not.toBe(a.hash);
  });

  it('accepts a tool call without an amount', () => {
    const intent = parseIntent({ agentId: 'ops-bot', action: 'delete_database', params: { name: 'prod' } });
    expect(intent.amount).toBeUndefined();
    expect(intent.params).toEqual({ name: 'prod' });
  });

  it('never treats a payment without an amount as 0', () => {
    expect(issuesOf({ agentId: 'a', currency: 'USD' })).toEqual([
      { path: 'amount', message: expect.stringContaining('required for a payment') },
    ]);
    expect(issuesOf({ agentId: 'a' }).map((i) => i.path)).toEqual(['amount', 'currency']);
  });

  it('requires a currency with any amount', () => {
    expect(issuesOf({ agentId: 'a', action: 'tool', amount: 5 })).toEqual([
      { path: 'currency', message: 'required when an amount is given' },
    ]);
  });

  it.each([
    [{ ...base, agentId: '' }, 'agentId'],
    [{ ...base, agentId: 42 }, 'agentId'],
    [{ ...base, amount: '-5' }, 'amount'],
    [{ ...base, amount: 'lots' }, 'amount'],
    [{ ...base, amount: Number.NaN }, 'amount'],
    [{ ...base, amount: '1.0000001' }, 'amount'],
    [{ ...base, amount: true }, 'amount'],
    [{ ...base, currency: 'DOGE' }, 'currency'],
    [{ ...base, protocol: 'swift' }, 'protocol'],
    [{ ...base, params: 'rm -rf' }, 'params'],
    [{ ...base, surprise: 1 }, ''],
    [{ ...base, recipient: 'x'.repeat(3000) }, 'recipient'],
  ])('rejects %j naming the field', (input, path) => {
    const issues = issuesOf(input);
    expect(issues.length).toBeGreaterThan(0);
    expect(issues.map((i) => i.path)).toContain(path);
  });

  it('rejects non-objects', () => {
    expect(issuesOf(null).length).toBe(1);
    expect(issuesOf('pay me').length).toBe(1);
  });

  it('the error message summarises every issue', () => {
    expect(() => parseIntent({ agentId: '', amount: 'x', currency: 'USD' })).toThrow(
      /Invalid intent: agentId: .*/,
    );
  });
});
