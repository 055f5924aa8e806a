import { ErrorCode, EventBus, ManualClock, Money } from '@bursar/core';
import { describe, expect, it } from 'vitest';
import { T0 } from '../__fixtures__/logs.js';
import { ProtectErrorCode } from '../errors.js';
import { ProvenanceLog } from '../provenance/provenance-log.js';
import type { ProvenanceEvidence } from './dispute.js';
import { DisputeManager } from './dispute-manager.js';

const usdc = (v: string) => Money.parse(v, 'USDC');
const code = (c: string) => expect.objectContaining({ code: c });
const payment = { paymentId: 'int_1', amount: usdc('24.00') };

/** A manager with a log; unless `settle` is false, the log shows int_1 settled for that amount. */
async function setup(settle: string | false = '24.00') {
  const clock = new ManualClock(T0);
  const log = new ProvenanceLog({ clock });
  if (settle !== false) {
    await log.append('payment.settled', { intentId: 'int_1', amount: settle, currency: 'USDC' });
  }
  return { clock, log, disputes: new DisputeManager({ clock, provenance: log }) };
}

describe('DisputeManager: state machine', () => {
  it('goes open → evidence → resolved and records every step', async () => {
    const { clock, log, disputes } = await setup(false);
    const bus = new EventBus();
    log.attach(bus);
    bus.emit('intent.received', {
      at: T0,
      agentId: 'bot',
      intentId: 'int_1',
      amount: '24.00',
      currency: 'USDC',
    });
    bus.emit('payment.settled', {
      at: T0,
      agentId: 'bot',
      intentId: 'int_1',
      amount: '24.00',
      currency: 'USDC',
      source: 'facilitator',
    });
    await log.head();

    const opened = await disputes.open({
      payment,
      reason: 'service not delivered',
      openedBy: 'buyer@example.com',
      id: 'dsp_1',
    });
    expect(opened).toMatchObject({
      id: 'dsp_1',
      state: 'open',
      paymentId: 'int_1',
      reason: 'service not delivered',
    });
    expect(opened.amount.toDecimalString()).toBe('24.000000');
    expect(Object.isFrozen(opened)).toBe(true);

    clock.advance(1000);
    const withEvidence = await disputes.addEvidence('dsp_1', {
      kind: 'note',
      description: 'seller log shows a timeout',
      submittedBy: 'ops',
    });
    expect(withEvidence.state).toBe('evidence');
    expect(withEvidence.evidence.map((e) => e.kind)).toEqual(['provenance', 'note']);
    const chain = withEvidence.evidence[0] as ProvenanceEvidence;
    expect(chain.records.map((r) => r.type)).toEqual([
      'intent.received',
      'payment.settled',
      'dispute.opened',
    ]);
    expect(chain.completeness).toMatchObject({ status: 'disputed', missing: ['decision'] });
    expect(chain.head).toMatchObject({ seq: 3 });

    const more = await disputes.addEvidence('dsp_1', {
      kind: 'document',
      data: { url: 'https://example.com/receipt' },
    });
    expect(more.evidence.map((e) => e.kind)).toEqual(['provenance', 'note', 'document']);
    expect(more.history.map((h) => h.to)).toEqual(['open', 'evidence']);

    clock.advance(1000);
    const resolved = await disputes.resolve('dsp_1', {
      resolution: 'refunded',
      resolvedBy: 'ops@example.com',
      note: 'refund approved',
    });
    expect(resolved).toMatchObject({
      state: 'resolved',
      resolution: 'refunded',
      resolvedBy: 'ops@example.com',
      updatedAt: T0 + 2000,
    });
    expect(resolved.refundAmount!.toDecimalString()).toBe('24.000000');
    expect(resolved.history.map((h) => `${h.from}->${h.to}`)).toEqual([
      'null->open',
      'open->evidence',
      'evidence->resolved',
    ]);
    expect(disputes.granted('int_1')!.toDecimalString()).toBe('24.000000');

    const types = (await log.chain('int_1')).map((r) => r.type);
    expect(types).toEqual([
      'intent.received',
      'payment.settled',
      'dispute.opened',
      'dispute.evidence',
      'dispute.evidence',
      'dispute.resolved',
    ]);
    expect((await log.chain('int_1')).at(-1)!.data).toMatchObject({
      resolution: 'refunded',
      amount: '24.000000',
      resolvedBy: 'ops@example.com',
    });
    expect(await log.verify()).toMatchObject({ ok: true });
  });

  it('rejects invalid transitions with a typed error and changes nothing', async () => {
    const { disputes, log } = await setup();
    const d = await disputes.open({ payment, reason: 'x' });
    const before = (await log.records()).length;
    await expect(disputes.resolve(d.id, { resolution: 'rejected' })).rejects.toThrow(
      code(ProtectErrorCode.INVALID_TRANSITION),
    );
    expect(disputes.get(d.id)!.state).toBe('open');
    await disputes.addEvidence(d.id, { kind: 'note' });
    await disputes.resolve(d.id, { resolution: 'rejected' });
    const error = await disputes.addEvidence(d.id, { kind: 'note' }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      code: ProtectErrorCode.INVALID_TRANSITION,
      details: { disputeId: d.id, from: 'resolved', to: 'evidence' },
    });
    await expect(disputes.resolve(d.id, { resolution: 'refunded' })).rejects.toThrow(
      code(ProtectErrorCode.INVALID_TRANSITION),
    );
    expect(disputes.get(d.id)).toMatchObject({ state: 'resolved', resolution: 'rejected' });
    expect(disputes.get(d.id)!.refundAmount!.isZero()).toBe(true);
    expect((await log.records()).length).toBe(before + 2);
    await expect(disputes.addEvidence('dsp_nope', { kind: 'note' })).rejects.toThrow(
      code(ErrorCode.NOT_FOUND),
    );
  });

  it('allows one unresolved dispute per payment', async () => {
    const { disputes } = await setup();
    const d = await disputes.open({ payment, amount: usdc('10'), reason: 'x' });
    await expect(disputes.open({ payment, amount: usdc('5'), reason: 'y' })).rejects.toThrow(
      code(ErrorCode.CONFLICT),
    );
    await expect(
      disputes.open({ payment: { ...payment, paymentId: 'int_2' }, reason: 'y', id: d.id }),
    ).rejects.toThrow(code(ErrorCode.CONFLICT));
    await disputes.addEvidence(d.id, { kind: 'note' });
    await disputes.resolve(d.id, { resolution: 'rejected' });
    expect((await disputes.open({ payment, reason: 'again' })).state).toBe('open');
    expect(disputes.list({ paymentId: 'int_1' }).map((x) => x.state)).toEqual(['resolved', 'open']);
    expect(disputes.list({ state: 'open' })).toHaveLength(1);
  });
});

describe('DisputeManager: amounts', () => {
  it('never refunds more than settled minus earlier refunds', async () => {
    const { disputes } = await setup('100');
    const settled = { paymentId: 'int_1', amount: usdc('100'), refunded: usdc('30') };
    const first = await disputes.open({ payment: settled, amount: usdc('50'), reason: 'partly broken' });
    await disputes.addEvidence(first.id, { kind: 'note' });
    const partial = await disputes.resolve(first.id, {
      resolution: 'partially_refunded',
      refundAmount: usdc('40'),
    });
    expect(partial.refundAmount!.toDecimalString()).toBe('40.000000');

    // 100 settled − 30 refunded outside − 40 granted here = 30 left.
    const second = await disputes.open({ payment: settled, reason: 'still broken' });
    expect(second.amount.toDecimalString()).toBe('30.000000');
    expect(second.refundedBefore.toDecimalString()).toBe('70.000000');
    await disputes.addEvidence(second.id, { kind: 'note' });
    const over = await disputes
      .resolve(second.id, { resolution: 'partially_refunded', refundAmount: usdc('30.000001') })
      .catch((e: unknown) => e);
    expect(over).toMatchObject({
      code: ProtectErrorCode.REFUND_EXCEEDS_SETTLED,
      details: {
        refund: { amount: '30.000001', currency: 'USDC' },
        refundable: { amount: '30.000000', currency: 'USDC' },
      },
    });
    expect(disputes.get(second.id)!.state).toBe('evidence');
    expect(disputes.granted('int_1')!.toDecimalString()).toBe('40.000000');
    const full = await disputes.resolve(second.id, { resolution: 'refunded' });
    expect(full.refundAmount!.toDecimalString()).toBe('30.000000');
    expect(disputes.granted('int_1')!.toDecimalString()).toBe('70.000000');
    await expect(disputes.open({ payment: settled, reason: 'nothing left' })).rejects.toThrow(
      code(ErrorCode.INVALID_AMOUNT),
    );
  });

  it('checks the disputed amount against what is refundable', async () => {
    const { disputes } = await setup();
    await expect(disputes.open({ payment, amount: usdc('24.01'), reason: 'x' })).rejects.toThrow(
      code(ProtectErrorCode.DISPUTE_EXCEEDS_SETTLED),
    );
    await expect(
      disputes.open({ payment: { ...payment, refunded: usdc('30') }, reason: 'x' }),
    ).rejects.toThrow(code(ProtectErrorCode.REFUND_EXCEEDS_SETTLED));
    await expect(disputes.open({ payment, amount: usdc('0'), reason: 'x' })).rejects.toThrow(
      code(ErrorCode.INVALID_AMOUNT),
    );
    expect(disputes.list()).toEqual([]);
  });

  it('refuses another currency (core ASSET_MISMATCH), case-insensitively the same currency is fine', async () => {
    const { disputes } = await setup();
    await expect(disputes.open({ payment, amount: Money.parse('5', 'EUR'), reason: 'x' })).rejects.toThrow(
      code(ErrorCode.ASSET_MISMATCH),
    );
    await expect(
      disputes.open({ payment: { ...payment, refunded: Money.parse('1', 'USD') }, reason: 'x' }),
    ).rejects.toThrow(code(ErrorCode.ASSET_MISMATCH));
    const d = await disputes.open({ payment, amount: Money.parse('5', 'usdc'), reason: 'x' });
    await disputes.addEvidence(d.id, { kind: 'note' });
    await expect(
      disputes.resolve(d.id, { resolution: 'partially_refunded', refundAmount: Money.parse('1', 'EUR') }),
    ).rejects.toThrow(code(ErrorCode.ASSET_MISMATCH));
  });

  it('keeps resolutions honest: refunded is the whole amount, partial is less, rejected is nothing', async () => {
    const { disputes } = await setup();
    const d = await disputes.open({ payment, amount: usdc('10'), reason: 'x' });
    await disputes.addEvidence(d.id, { kind: 'note' });
    const bad: [Parameters<DisputeManager['resolve']>[1], string][] = [
      [{ resolution: 'refunded', refundAmount: usdc('4') }, ErrorCode.INVALID_ARGUMENT],
      [{ resolution: 'partially_refunded' }, ErrorCode.INVALID_ARGUMENT],
      [{ resolution: 'partially_refunded', refundAmount: usdc('10') }, ErrorCode.INVALID_ARGUMENT],
      [{ resolution: 'partially_refunded', refundAmount: usdc('12') }, ErrorCode.INVALID_ARGUMENT],
      [{ resolution: 'partially_refunded', refundAmount: usdc('0') }, ErrorCode.INVALID_AMOUNT],
      [{ resolution: 'rejected', refundAmount: usdc('1') }, ErrorCode.INVALID_ARGUMENT],
      [{ resolution: 'settled' as never }, ErrorCode.INVALID_ARGUMENT],
    ];
    for (const [input, c] of bad) await expect(disputes.resolve(d.id, input)).rejects.toThrow(code(c));
    expect(disputes.get(d.id)!.state).toBe('evidence');
  });

  it('validates input and options', async () => {
    const { disputes } = await setup();
    await expect(
      disputes.open({ payment: { paymentId: '', amount: usdc('1') }, reason: 'x' }),
    ).rejects.toThrow(code(ErrorCode.INVALID_ARGUMENT));
    await expect(
      disputes.open({ payment: { paymentId: 'p', amount: 5 as never }, reason: 'x' }),
    ).rejects.toThrow(code(ErrorCode.INVALID_ARGUMENT));
    await expect(disputes.open({ payment, reason: '' })).rejects.toThrow(code(ErrorCode.INVALID_ARGUMENT));
    const d = await disputes.open({ payment, reason: 'x' });
    await expect(disputes.addEvidence(d.id, { kind: 'provenance' })).rejects.toThrow(
      code(ErrorCode.INVALID_ARGUMENT),
    );
    await expect(disputes.addEvidence(d.id, { kind: 'doc', data: [] as never })).rejects.toThrow(
      code(ErrorCode.INVALID_ARGUMENT),
    );
    expect(() => new DisputeManager({ provenance: {} as never })).toThrow(code(ErrorCode.INVALID_OPTIONS));
  });

  it('works without a provenance log, and copies evidence data', async () => {
    const disputes = new DisputeManager({ clock: new ManualClock(T0) });
    const d = await disputes.open({ payment, reason: 'x' });
    const data = { url: 'a' };
    const e = await disputes.addEvidence(d.id, { kind: 'doc', data });
    data.url = 'b';
    expect(e.evidence).toEqual([{ kind: 'doc', data: { url: 'a' }, at: T0 }]);
  });
});
