import { afterEach, describe, expect, it } from 'vitest';
import { guard } from './guard.js';
import { httpHarness } from './http/__fixtures__/http-harness.js';
import { PolicyDeniedError } from './policy-denied-error.js';
import { protectTools } from './protect-tools.js';

// The shared harness: evil.example denied, above 50 USDC needs approval, 100 USDC a day.
let h: ReturnType<typeof httpHarness>;
afterEach(async () => {
  await h.approvals.close();
});

interface Transfer {
  to: string;
  amount: string;
}

function sender(paid: Transfer[]) {
  h = httpHarness();
  return guard(
    async (t: Transfer) => {
      paid.push({ ...t });
      return `paid ${t.amount} to ${t.to}`;
    },
    {
      engine: h.engine,
      agentId: 'bot-1',
      action: 'send',
      approvals: h.approvals,
      mapArgs: (t) => ({ amount: t.amount, currency: 'USDC', recipient: t.to }),
    },
  );
}

function nextRequest(): Promise<string> {
  return new Promise((resolve) => {
    const off = h.approvals.events.on('approval.requested', (e) => {
      off();
      resolve(e.approval.id);
    });
  });
}

describe('guard() runs the function with exactly the arguments that were authorized', () => {
  it('changing the argument object after the call started changes neither the check nor the payment', async () => {
    const paid: Transfer[] = [];
    const send = sender(paid);
    const a = { to: 'https://a.example/pay', amount: '45' };
    const p = send(a);
    a.amount = '4500';
    a.to = 'https://evil.example/pay';
    await expect(p).resolves.toBe('paid 45 to https://a.example/pay');
    expect(paid).toEqual([{ to: 'https://a.example/pay', amount: '45' }]);
    expect(await h.day()).toEqual({ spent: '45.000000', held: '0.000000' });
  });

  it('also while the call waits for a human: the approved amount and recipient are what runs', async () => {
    const paid: Transfer[] = [];
    const send = sender(paid);
    const a = { to: 'https://a.example/pay', amount: '60' };
    const raised = nextRequest();
    const p = send(a);
    const id = await raised;
    a.amount = '4500';
    a.to = 'https://evil.example/pay';
    await h.approvals.vote(id, { operator: h.as('alice'), approve: true });
    await expect(p).resolves.toBe('paid 60 to https://a.example/pay');
    expect(paid).toEqual([{ to: 'https://a.example/pay', amount: '60' }]);
    expect(await h.day()).toEqual({ spent: '60.000000', held: '0.000000' });
  });

  it('a class instance cannot be copied: if it changed before the run, the call is refused and released', async () => {
    class Order {
      constructor(
        public to: string,
        public amount: string,
      ) {}
    }
    h = httpHarness();
    const runs: string[] = [];
    const send = guard(
      async (o: Order) => {
        runs.push(`${o.amount}->${o.to}`);
        return o instanceof Order;
      },
      {
        engine: h.engine,
        agentId: 'bot-1',
        action: 'send',
        mapArgs: (o) => ({ amount: o.amount, currency: 'USDC', recipient: o.to }),
      },
    );
    const order = new Order('https://a.example/pay', '45');
    const p = send(order);
    order.amount = '4500';
    const error = await p.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(PolicyDeniedError.isInstance(error), String(error)).toBe(true);
    expect((error as PolicyDeniedError).decision.reasons[0]!.code).toBe('arguments_changed');
    expect(runs).toEqual([]);
    expect(await h.day()).toEqual({ spent: '0.000000', held: '0.000000' });
    // Unchanged, the instance itself is passed (its class and methods intact).
    await expect(send(new Order('https://a.example/pay', '5'))).resolves.toBe(true);
    expect(runs).toEqual(['5->https://a.example/pay']);
  });

  it('copies built-in values faithfully (Date, Map, typed arrays) and passes functions through', async () => {
    h = httpHarness();
    const seen: unknown[] = [];
    const run = guard(
      async (when: Date, tags: Map<string, string>, bytes: Uint8Array, cb: () => string) => {
        seen.push(
          when instanceof Date,
          tags instanceof Map,
          tags.get('k'),
          bytes instanceof Uint8Array,
          cb(),
        );
      },
      { engine: h.engine, agentId: 'bot-1', action: 'record' },
    );
    const tags = new Map([['k', 'v']]);
    const p = run(new Date(0), tags, new Uint8Array([1]), () => 'called');
    tags.set('k', 'changed');
    await p;
    expect(seen).toEqual([true, true, 'v', true, 'called']);
  });
});

describe('protectTools() runs tools with exactly the input that was authorized', () => {
  it('for handler functions and AI SDK tools', async () => {
    h = httpHarness();
    const paid: Transfer[] = [];
    let options: unknown;
    const tools = protectTools(
      {
        handler: async (input: Transfer) => {
          paid.push({ ...input });
          return 'ok';
        },
        aiTool: {
          inputSchema: {},
          execute: async (input: Transfer, o?: unknown) => {
            paid.push({ ...input });
            options = o;
            return 'ok';
          },
        },
      },
      {
        engine: h.engine,
        agentId: 'bot-1',
        mapArgs: (i) => ({ amount: (i as Transfer).amount, currency: 'USDC', recipient: (i as Transfer).to }),
      },
    );
    const a = { to: 'https://a.example/pay', amount: '10' };
    const first = tools.handler(a);
    a.amount = '4500';
    await first;
    const b = { to: 'https://b.example/pay', amount: '20' };
    const extra = { toolCallId: 'call-1', messages: [] };
    const second = tools.aiTool.execute(b, extra);
    b.to = 'https://evil.example/pay';
    await second;
    expect(paid).toEqual([
      { to: 'https://a.example/pay', amount: '10' },
      { to: 'https://b.example/pay', amount: '20' },
    ]);
    expect(options).toBe(extra);
    expect(await h.day()).toEqual({ spent: '30.000000', held: '0.000000' });
  });
});
