import { BursarError, type Decision } from '@bursar/core';
import { afterEach, expect, it, vi } from 'vitest';
import { eventually, httpHarness, type ServerFactory, type TestServer } from './http-harness.js';

interface PostOptions {
  agent?: string | null;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

interface ErrorBody {
  error: {
    code: string;
    message: string;
    issues?: Array<{ path: string; message: string }>;
    decision?: Decision;
    retryAfterMs?: number;
  };
}

/**
 * The end-to-end scenarios every HTTP integration must pass, over real HTTP on 127.0.0.1
 * with the real engine and ApprovalManager. Call inside a `describe`.
 */
export function httpScenarios(make: ServerFactory): void {
  let server: TestServer | undefined;
  let h: ReturnType<typeof httpHarness>;
  afterEach(async () => {
    h?.latch.open();
    await server?.close();
    server = undefined;
    await h?.approvals.close();
    vi.restoreAllMocks();
  });

  async function start(extra: Record<string, unknown> = {}, harness = httpHarness()) {
    h = harness;
    server = await make({ options: { engine: h.engine, approvals: h.approvals, ...extra }, latch: h.latch });
    return h;
  }

  const post = (body: unknown, o: PostOptions = {}) =>
    fetch(`${server!.url}/pay`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(o.agent === null ? {} : { 'x-agent': o.agent ?? 'bot-1' }),
        ...o.headers,
      },
      body: JSON.stringify(body),
      ...(o.signal ? { signal: o.signal } : {}),
    });
  const get = (path: string, agent = 'bot-1') =>
    fetch(`${server!.url}${path}`, { headers: { 'x-agent': agent } });
  const pay = (amount: string | number, extra: Record<string, unknown> = {}) => ({
    amount,
    currency: 'USDC',
    recipient: 'https://api.example.com/v1/chat',
    ...extra,
  });

  it('allow: runs the route with the decision attached and captures on 2xx', async () => {
    const { day } = await start();
    const res = await post(pay('12.50'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, agentId: 'bot-1', outcome: 'allow', action: 'POST /pay' });
    expect(await eventually(async () => (await day()).spent === '12.500000')).toBe(true);
    expect(await day()).toEqual({ spent: '12.500000', held: '0.000000' });
  });

  it('identity comes from authentication, never from the body; none → 401', async () => {
    const { day } = await start();
    const res = await post(pay('1', { agentId: 'someone-else' }), { agent: 'bot-7' });
    expect(((await res.json()) as { agentId: string }).agentId).toBe('bot-7');
    const anonymous = await post(pay('1', { agentId: 'bot-7' }), { agent: null });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as ErrorBody).error.code).toBe('unauthenticated');
    expect(await eventually(async () => (await day()).spent === '1.000000')).toBe(true);
  });

  it('400 with field issues for a bad body or an invalid intent', async () => {
    const { day } = await start();
    const missing = await post({ recipient: 'x' });
    expect(missing.status).toBe(400);
    const body = (await missing.json()) as ErrorBody;
    expect(body.error.code).toBe('invalid_request');
    expect(body.error.issues).toEqual([
      { path: 'amount', message: 'required' },
      { path: 'currency', message: 'required' },
    ]);
    const unknownCurrency = await post(pay('1', { currency: 'NOPE' }));
    expect(unknownCurrency.status).toBe(400);
    expect(((await unknownCurrency.json()) as ErrorBody).error.issues?.[0]?.path).toBe('currency');
    const negative = await post(pay('-5'));
    expect(negative.status).toBe(400);
    expect(((await negative.json()) as ErrorBody).error.issues?.[0]?.path).toBe('amount');
    expect(await day()).toEqual({ spent: '0.000000', held: '0.000000' });
  });

  it('deny: 403 with the decision, nothing held', async () => {
    const { day } = await start();
    const res = await post(pay('5', { recipient: 'https://evil.example/pay' }));
    expect(res.status).toBe(403);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe('policy_denied');
    expect(body.error.message).toMatch(/^Denied by policy: /);
    expect(body.error.decision?.outcome).toBe('deny');
    expect(body.error.decision?.reasons[0]).toMatchObject({ code: 'rule_deny', ruleId: 'blocked' });
    expect(await day()).toEqual({ spent: '0.000000', held: '0.000000' });
  });

  it('exposeDecision: false keeps the decision out of error bodies', async () => {
    await start({ exposeDecision: false });
    const res = await post(pay('5', { recipient: 'https://evil.example/pay' }));
    const body = (await res.json()) as ErrorBody;
    expect(res.status).toBe(403);
    expect(body.error.decision).toBeUndefined();
  });

  it('rate limit: 429 with Retry-After in seconds', async () => {
    const { day } = await start();
    for (let i = 0; i < 2; i++) expect((await post(pay('1'), { agent: 'chatty-bot' })).status).toBe(200);
    const res = await post(pay('1'), { agent: 'chatty-bot' });
    expect(res.status).toBe(429);
    // The manual clock stands at 12:00: the hourly window reopens in 3600 s.
    expect(res.headers.get('retry-after')).toBe('3600');
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe('rate_limited');
    expect(body.error.retryAfterMs).toBe(3_600_000);
    expect(body.error.decision?.reasons.some((r) => r.code === 'rate_limit_exceeded')).toBe(true);
    expect(await eventually(async () => (await day()).spent === '2.000000')).toBe(true);
  });

  it('approval: pending (202) → approved → the retry runs and is captured; the approval is single-use', async () => {
    const { approvals, as, day } = await start();
    const first = await post(pay('60'));
    expect(first.status).toBe(202);
    const pending = (await first.json()) as { status: string; approvalId: string; statusUrl: string };
    expect(pending).toEqual({
      status: 'pending',
      approvalId: expect.any(String),
      statusUrl: `/bursar/approvals/${pending.approvalId}`,
    });
    expect(first.headers.get('location')).toBe(pending.statusUrl);
    expect(await day()).toEqual({ spent: '0.000000', held: '60.000000' });

    const status = await get(pending.statusUrl);
    expect(status.status).toBe(200);
    const view = (await status.json()) as Record<string, unknown>;
    expect(view).toMatchObject({
      id: pending.approvalId,
      status: 'pending',
      agentId: 'bot-1',
      amount: '60.000000',
    });
    expect(view).not.toHaveProperty('context');
    expect((await get(pending.statusUrl, 'bot-2')).status).toBe(404);

    const retry = { headers: { 'bursar-approval-id': pending.approvalId } };
    const early = await post(pay('60'), retry);
    expect(early.status).toBe(202);
    expect(((await early.json()) as { approvalId: string }).approvalId).toBe(pending.approvalId);

    await approvals.vote(pending.approvalId, {
      operator: as('alice@example.com'),
      approve: true,
      reason: 'ok',
    });
    const other = await post(pay('61'), retry);
    expect(other.status).toBe(409);
    expect(((await other.json()) as ErrorBody).error.code).toBe('approval_mismatch');
    expect((await post(pay('60'), { ...retry, agent: 'bot-2' })).status).toBe(404);

    const approved = await post(pay('60'), retry);
    expect(approved.status).toBe(200);
    expect(await approved.json()).toMatchObject({ ok: true, outcome: 'allow', agentId: 'bot-1' });
    expect(await eventually(async () => (await day()).spent === '60.000000')).toBe(true);
    expect(await day()).toEqual({ spent: '60.000000', held: '0.000000' });

    const again = await post(pay('60'), retry);
    expect(again.status).toBe(409);
    expect(((await again.json()) as ErrorBody).error.code).toBe('approval_consumed');
    expect(await day()).toEqual({ spent: '60.000000', held: '0.000000' });
  });

  it('approval: rejected → 403 on retry, hold released', async () => {
    const { approvals, as, day } = await start();
    const { approvalId } = (await (await post(pay('70'))).json()) as { approvalId: string };
    await approvals.vote(approvalId, { operator: as('bob@example.com'), approve: false, reason: 'no' });
    expect(await day()).toEqual({ spent: '0.000000', held: '0.000000' });
    const res = await post(pay('70'), { headers: { 'bursar-approval-id': approvalId } });
    expect(res.status).toBe(403);
    expect(((await res.json()) as ErrorBody).error.decision?.outcome).toBe('deny');
  });

  it('approval: expired → released; the retry is denied', async () => {
    const { approvals, clock, day } = await start();
    const { approvalId, statusUrl } = (await (await post(pay('80'))).json()) as {
      approvalId: string;
      statusUrl: string;
    };
    expect(await day()).toEqual({ spent: '0.000000', held: '80.000000' });
    clock.advance(16 * 60_000);
    expect(await approvals.expire()).toBe(1);
    expect(await day()).toEqual({ spent: '0.000000', held: '0.000000' });
    expect(((await (await get(statusUrl)).json()) as { status: string }).status).toBe('expired');
    const res = await post(pay('80'), { headers: { 'bursar-approval-id': approvalId } });
    expect(res.status).toBe(403);
    const body = (await res.json()) as ErrorBody;
    expect(body.error.code).toBe('policy_denied');
    expect(body.error.decision?.outcome).toBe('deny');
    expect(await day()).toEqual({ spent: '0.000000', held: '0.000000' });
  });

  it('without an approval workflow, require_approval is 403 and releases the hold', async () => {
    const { day } = await start({ approvals: undefined });
    const res = await post(pay('60'));
    expect(res.status).toBe(403);
    expect(((await res.json()) as ErrorBody).error.code).toBe('approval_unavailable');
    expect(await day()).toEqual({ spent: '0.000000', held: '0.000000' });
  });

  it('handler error → released', async () => {
    const { day } = await start();
    const res = await post(pay('30', { params: { mode: 'throw' } }));
    expect(res.status).toBe(500);
    expect(await eventually(async () => (await day()).held === '0.000000')).toBe(true);
    expect(await day()).toEqual({ spent: '0.000000', held: '0.000000' });
  });

  it('a non-2xx answer from the route → released', async () => {
    const { day } = await start();
    const res = await post(pay('30', { params: { mode: 'status402' } }));
    expect(res.status).toBe(402);
    expect(await eventually(async () => (await day()).held === '0.000000')).toBe(true);
    expect(await day()).toEqual({ spent: '0.000000', held: '0.000000' });
  });

  it('client abort → released (exactly once, never captured afterwards)', async () => {
    const { day, latch } = await start();
    const controller = new AbortController();
    const request = post(pay('25', { params: { mode: 'wait' } }), { signal: controller.signal }).catch(
      (e: unknown) => e,
    );
    await latch.arrived;
    expect(await day()).toEqual({ spent: '0.000000', held: '25.000000' });
    controller.abort();
    expect((await request) instanceof Error).toBe(true);
    expect(await eventually(async () => (await day()).held === '0.000000')).toBe(true);
    latch.open();
    await latch.finished;
    expect(latch.signalAborted).toBe(true);
    // Give a late capture every chance to happen; it must not.
    await new Promise((r) => setTimeout(r, 20));
    expect(await day()).toEqual({ spent: '0.000000', held: '0.000000' });
  });

  it('an Idempotency-Key replayed after success is refused (409) instead of running twice', async () => {
    const { day } = await start();
    const headers = { 'idempotency-key': 'order-1' };
    expect((await post(pay('10'), { headers })).status).toBe(200);
    const replay = await post(pay('10'), { headers });
    expect(replay.status).toBe(409);
    expect(((await replay.json()) as ErrorBody).error.code).toBe('idempotency_replayed');
    const conflict = await post(pay('11'), { headers });
    expect(conflict.status).toBe(409);
    expect(((await conflict.json()) as ErrorBody).error.code).toBe('idempotency_conflict');
    expect(await eventually(async () => (await day()).spent === '10.000000')).toBe(true);
  });

  it('internal errors fail closed (503); failOpen lets the request through, logged', async () => {
    const harness = httpHarness();
    const broken = new Proxy(harness.engine, {
      get(target, prop) {
        if (prop === 'authorize') return () => Promise.reject(new Error('store unreachable'));
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const reported: string[] = [];
    await start(
      {
        engine: broken,
        onError: (e: unknown, c: { operation: string }) => reported.push(`${c.operation}: ${String(e)}`),
      },
      harness,
    );
    const closed = await post(pay('5'));
    expect(closed.status).toBe(503);
    expect(((await closed.json()) as ErrorBody).error.code).toBe('policy_unavailable');
    expect(reported).toEqual(['authorize: Error: store unreachable']);
    await server!.close();
    await harness.approvals.close();

    const again = httpHarness();
    const brokenAgain = new Proxy(again.engine, {
      get(target, prop) {
        if (prop === 'authorize') return () => Promise.reject(new Error('store unreachable'));
        const value = Reflect.get(target, prop, target) as unknown;
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const warnings: string[] = [];
    vi.spyOn(process, 'emitWarning').mockImplementation((w: string | Error) => {
      warnings.push(String(w));
    });
    await start({ engine: brokenAgain, failOpen: true, onError: () => undefined }, again);
    const open = await post(pay('5'));
    expect(open.status).toBe(200);
    expect(await open.json()).toMatchObject({ ok: true, outcome: null });
    expect(warnings.some((w) => w.includes('failOpen'))).toBe(true);
  });

  it('concurrency: 50 simultaneous $20 requests against a $100 budget → exactly 5 succeed, $100 captured', async () => {
    const { day } = await start();
    const responses = await Promise.all(Array.from({ length: 50 }, () => post(pay('20'))));
    const statuses = responses.map((r) => r.status);
    await Promise.all(responses.map((r) => r.arrayBuffer()));
    expect(statuses.filter((s) => s === 200)).toHaveLength(5);
    expect(statuses.filter((s) => s === 403)).toHaveLength(45);
    expect(await eventually(async () => (await day()).spent === '100.000000')).toBe(true);
    expect(await day()).toEqual({ spent: '100.000000', held: '0.000000' });
  });

  it('validates options when created', async () => {
    const error = await make({ options: { engine: {}, bogus: 1 }, latch: httpHarness().latch }).then(
      (s) => {
        server = s;
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(BursarError.hasCode(error, 'ERR_BURSAR_INVALID_OPTIONS')).toBe(true);
    expect((error as BursarError).issues.map((i) => i.path).sort()).toEqual(['', 'engine']);
  });
}
