/**
 * The guard composes with the other Bursar packages through their real classes:
 * `@bursar/control`'s PolicyEngine, `@bursar/observe`'s SpendTracker and `@bursar/protect`'s
 * ProvenanceLog (the options are structural; these tests keep the shapes honest).
 */
import { allowAll, PolicyEngine } from '@bursar/control';
import { SpendTracker } from '@bursar/observe';
import { ProvenanceLog } from '@bursar/protect';
import { describe, expect, it } from 'vitest';
import { directFlow, RESOURCE } from './__fixtures__/direct-flow.js';
import { createX402Guard } from './seller/index.js';

describe('composition with PolicyEngine, SpendTracker and ProvenanceLog', () => {
  it('records the settlement once in the tracker and a verifiable provenance chain with its source', async () => {
    const engine = new PolicyEngine();
    engine.loadPolicy({ id: 'sales', rules: [allowAll()] });
    const tracker = new SpendTracker({ bus: engine.events }); // also listens: de-duplicated by hold id
    const log = new ProvenanceLog();
    log.attach(engine.events);
    const guard = createX402Guard({ engine, tracker, provenance: log });
    const flow = await directFlow({ attach: (s) => guard.attach(s) });
    const wallet = flow.scheme.ledger.createWallet(5_000_000n);
    const req = await flow.requirementsFor('$0.25');
    const payload = await flow.sign(wallet, req);
    const out = await flow.pay(payload, req);
    expect(out.settle?.success).toBe(true);
    await guard.idle();

    const total = tracker.total({ currency: 'USDC' });
    expect(total.total.toDecimalString()).toBe('0.250000');
    expect(total.count).toBe(1);

    const status = guard.status(guard.paymentIdOf(payload))!;
    const chain = await log.chain(status.intentId!);
    const types = chain.map((r) => r.type);
    expect(types).toEqual(
      expect.arrayContaining([
        'decision.made',
        'hold.captured',
        'x402.authorized',
        'x402.settled',
        'payment.settled',
      ]),
    );
    const settled = chain.find((r) => r.type === 'x402.settled')!;
    expect(settled.data).toMatchObject({
      paymentId: status.paymentId,
      transaction: out.settle!.transaction,
      source: 'facilitator',
      facilitator: 'local',
      resource: RESOURCE,
      amount: '0.250000',
    });
    expect((await log.verify()).ok).toBe(true);
  });
});
