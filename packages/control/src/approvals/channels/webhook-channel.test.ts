import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SIGNATURE_HEADER, signWebhook, verifyWebhook } from '@bursar/core';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApprovalHarness, pay, setupApprovals, T0 } from '../__fixtures__/approvals.js';
import { ApprovalErrorCode } from '../codes.js';
import { budgetContext } from '../context.js';
import type { ApprovalManagerOptions } from '../options.js';
import { APPROVAL_ID_HEADER, type WebhookChannelOptions, webhookChannel } from './webhook-channel.js';

const SECRET = 'webhook-secret-0123456789abcdef';

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage['headers'];
  body: string;
}

const servers: Server[] = [];
const harnesses: ApprovalHarness[] = [];
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.approvals.close();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A real HTTP server on 127.0.0.1 with a port chosen by the OS. */
async function serve(
  handle: (req: Received, res: ServerResponse) => void,
): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString('utf8');
    });
    req.on('end', () => {
      const r = { method: req.method!, url: req.url!, headers: req.headers, body };
      received.push(r);
      handle(r, res);
    });
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, received };
}

/** Resolves when the first channel round ends: `notified` or `failed`. Register before authorize. */
function settled(h: ApprovalHarness): Promise<'notified' | 'failed'> {
  return new Promise((resolve) => {
    const offs = [
      h.approvals.events.on('approval.notified', () => {
        for (const off of offs) off();
        resolve('notified');
      }),
      h.approvals.events.on('approval.channel_failed', () => {
        for (const off of offs) off();
        resolve('failed');
      }),
    ];
  });
}

function setup(
  channel: Omit<WebhookChannelOptions, 'secrets'> & { secrets?: string[] },
  options: ApprovalManagerOptions = {},
) {
  const errors: unknown[] = [];
  const sleeps: number[] = [];
  const h = setupApprovals({
    channels: [
      webhookChannel({
        secrets: [SECRET],
        backoffMs: 100,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
        ...channel,
      }),
    ],
    onError: (e) => {
      errors.push(e);
    },
    ...options,
  });
  harnesses.push(h);
  return { ...h, errors, sleeps, settled: settled(h) };
}

describe('webhookChannel delivery', () => {
  it('POSTs the signed request with approver context; the verdict comes back by signed callback', async () => {
    const server = await serve((_req, res) => res.writeHead(204).end());
    const { engine, approvals, clock, settled } = setup(
      { url: `${server.url}/hooks/bursar` },
      { contextProviders: [budgetContext()] },
    );
    const d = await engine.authorize(pay({ amount: '250.00' }));
    expect(d.outcome).toBe('require_approval');
    expect(await settled).toBe('notified');
    expect(server.received).toHaveLength(1);
    const [post] = server.received;
    expect(post).toMatchObject({ method: 'POST', url: '/hooks/bursar' });
    expect(post!.headers['content-type']).toBe('application/json');
    expect(post!.headers[APPROVAL_ID_HEADER]).toBe(d.approvalId);
    const header = post!.headers[SIGNATURE_HEADER] as string;
    expect(verifyWebhook({ secrets: [SECRET], header, body: post!.body, now: T0 })).toEqual({
      ok: true,
      timestamp: T0,
    });
    expect(
      verifyWebhook({ secrets: ['another-secret-0123456789'], header, body: post!.body, now: T0 }).ok,
    ).toBe(false);
    const payload = JSON.parse(post!.body);
    expect(payload).toMatchObject({
      type: 'approval.requested',
      request: {
        id: d.approvalId,
        agentId: 'research-bot',
        amount: '250.000000',
        currency: 'USDC',
        holdId: d.holdId,
        context: { budgets: [{ budgetId: 'day', held: '250.000000' }] },
      },
    });

    // The approver's system answers with a signed callback to the app.
    const body = JSON.stringify({ approvalId: d.approvalId, approver: 'carol', approve: true, reason: 'ok' });
    const result = await approvals.handleWebhookCallback({
      header: signWebhook({ secret: SECRET, body, now: clock.now() }),
      body,
    });
    expect(result).toMatchObject({
      ok: true,
      status: 200,
      approval: { status: 'approved', votes: [{ approver: 'carol', channel: 'webhook', reason: 'ok' }] },
    });
  });

  it('retries 5xx with exponential backoff, then delivers', async () => {
    let calls = 0;
    const server = await serve((_req, res) => {
      calls++;
      res.writeHead(calls <= 2 ? 503 : 200).end();
    });
    const { engine, approvals, sleeps, errors, settled } = setup({ url: server.url, attempts: 5 });
    const d = await engine.authorize(pay({ amount: '250.00' }));
    expect(await settled).toBe('notified');
    expect(server.received).toHaveLength(3);
    expect(sleeps).toEqual([100, 200]);
    expect(errors).toEqual([]);
    expect((await approvals.get(d.approvalId!))!.status).toBe('pending');
    // Every attempt is signed afresh.
    for (const r of server.received) {
      expect(
        verifyWebhook({
          secrets: [SECRET],
          header: r.headers[SIGNATURE_HEADER] as string,
          body: r.body,
          now: T0,
        }).ok,
      ).toBe(true);
    }
  });

  it('gives up after the last attempt: DELIVERY_FAILED, and the request is rejected (fail closed)', async () => {
    const server = await serve((_req, res) => res.writeHead(500).end());
    const { engine, approvals, sleeps, errors, held } = setup({
      url: server.url,
      attempts: 4,
      maxBackoffMs: 250,
    });
    const d = await engine.authorize(pay({ amount: '250.00' }));
    const view = await approvals.waitFor(d.approvalId!, { timeoutMs: 5_000 });
    expect(server.received).toHaveLength(4);
    expect(sleeps).toEqual([100, 200, 250]);
    expect(errors[0]).toMatchObject({ code: ApprovalErrorCode.DELIVERY_FAILED });
    expect((errors[0] as Error).message).toMatch(/HTTP 500/);
    expect(view).toMatchObject({
      status: 'rejected',
      resolution: { kind: 'channel_error', channel: 'webhook' },
    });
    expect(await held()).toBe('0.000000');
  });

  it('does not retry a 4xx answer other than 408/425/429', async () => {
    const server = await serve((_req, res) => res.writeHead(400).end('bad'));
    const { engine, approvals, sleeps } = setup({ url: server.url, attempts: 5 });
    const d = await engine.authorize(pay({ amount: '250.00' }));
    expect((await approvals.waitFor(d.approvalId!, { timeoutMs: 5_000 })).status).toBe('rejected');
    expect(server.received).toHaveLength(1);
    expect(sleeps).toEqual([]);
  });

  it('retries 429, connection failures and timeouts', async () => {
    let calls = 0;
    const server = await serve((_req, res) => {
      calls++;
      if (calls === 1) res.writeHead(429).end();
      else if (calls === 2)
        return; // never answers: the request times out
      else res.writeHead(200).end();
    });
    const { engine, approvals, sleeps, errors, settled } = setup({
      url: server.url,
      attempts: 3,
      requestTimeoutMs: 1_000, // room for a loaded machine: only the hanging call may time out
    });
    const d = await engine.authorize(pay({ amount: '250.00' }));
    expect(await settled).toBe('notified');
    expect(server.received).toHaveLength(3);
    expect(sleeps).toEqual([100, 200]);
    expect(errors).toEqual([]);
    expect((await approvals.get(d.approvalId!))!.status).toBe('pending');

    const closed = await serve(() => undefined);
    servers.pop()!.close();
    const refused = setup({ url: closed.url, attempts: 2 });
    const e = await refused.engine.authorize(pay({ amount: '250.00' }));
    expect((await refused.approvals.waitFor(e.approvalId!, { timeoutMs: 5_000 })).status).toBe('rejected');
    expect(refused.errors[0]).toMatchObject({ code: ApprovalErrorCode.DELIVERY_FAILED });
  });

  it('validates its options', () => {
    expect(() => webhookChannel({ url: 'ftp://x.example', secrets: [SECRET] })).toThrow(/url/);
    expect(() => webhookChannel({ url: 'http://x.example', secrets: ['short'] })).toThrow(/16 characters/);
    expect(() => webhookChannel({ url: 'http://x.example', secrets: [] })).toThrow(/secrets/);
  });
});

describe('webhookChannel polling', () => {
  it('polls a verdict URL until a signed verdict arrives; unsigned or forged answers are ignored', async () => {
    let polls = 0;
    const server = await serve((req, res) => {
      if (req.method === 'POST') {
        res.writeHead(202).end();
        return;
      }
      polls++;
      const id = decodeURIComponent(req.url.split('/').at(-1)!);
      const send = (body: string, secret?: string) => {
        const headers: Record<string, string> = { 'content-type': 'application/json' };
        if (secret) headers[SIGNATURE_HEADER] = signWebhook({ secret, body, now: T0 });
        res.writeHead(200, headers).end(body);
      };
      const verdict = JSON.stringify({ approvalId: id, approver: 'dan', approve: true, reason: 'polled' });
      if (polls === 1) send(JSON.stringify({ approvalId: id, status: 'pending' }), SECRET);
      else if (polls === 2)
        send(verdict); // unsigned: ignored
      else if (polls === 3)
        send(verdict, 'forged-secret-0123456789abc'); // wrong secret: ignored
      else send(verdict, SECRET);
    });
    const { engine, approvals } = setup({
      url: `${server.url}/hooks`,
      poll: { url: `${server.url}/verdicts/{id}`, intervalMs: 1_000, maxAttempts: 10 },
    });
    const d = await engine.authorize(pay({ amount: '250.00' }));
    const view = await approvals.waitFor(d.approvalId!, { timeoutMs: 5_000 });
    expect(view).toMatchObject({
      status: 'approved',
      votes: [{ approver: 'dan', channel: 'webhook', reason: 'polled' }],
    });
    expect(polls).toBe(4);
    const get = server.received.find((r) => r.method === 'GET')!;
    expect(get.url).toBe(`/verdicts/${d.approvalId}`);
    expect(
      verifyWebhook({
        secrets: [SECRET],
        header: get.headers[SIGNATURE_HEADER] as string,
        body: d.approvalId!,
        now: T0,
      }).ok,
    ).toBe(true);
  });

  it('is bounded by maxAttempts and leaves the request pending', async () => {
    const server = await serve((req, res) => {
      if (req.method === 'POST') res.writeHead(200).end();
      else res.writeHead(200).end(JSON.stringify({ status: 'pending' }));
    });
    const { engine, approvals, sleeps, settled } = setup({
      url: server.url,
      poll: { url: (id) => `${server.url}/v?id=${id}`, intervalMs: 7, maxAttempts: 3 },
    });
    const d = await engine.authorize(pay({ amount: '250.00' }));
    expect(await settled).toBe('notified');
    expect(server.received.filter((r) => r.method === 'GET')).toHaveLength(3);
    expect(sleeps).toEqual([7, 7, 7]);
    expect((await approvals.get(d.approvalId!))!.status).toBe('pending');
  });

  it('stops polling when the request is resolved elsewhere', async () => {
    const server = await serve((req, res) => {
      if (req.method === 'POST') res.writeHead(200).end();
      else res.writeHead(200).end('{}');
    });
    const h = setupApprovals({
      channels: [
        webhookChannel({
          url: server.url,
          secrets: [SECRET],
          poll: { url: `${server.url}/v/{id}`, intervalMs: 5, maxAttempts: 100_000 },
        }),
      ],
    });
    harnesses.push(h);
    const d = await h.engine.authorize(pay({ amount: '250.00' }));
    const gets = () => server.received.filter((r) => r.method === 'GET').length;
    for (let i = 0; i < 200 && gets() < 2; i++) await new Promise((r) => setTimeout(r, 5));
    await h.approvals.vote(d.approvalId!, { operator: h.as('alice'), approve: true });
    await new Promise((r) => setTimeout(r, 30));
    const after = gets();
    await new Promise((r) => setTimeout(r, 60));
    expect(gets()).toBe(after);
    expect(after).toBeGreaterThanOrEqual(2);
  });
});
