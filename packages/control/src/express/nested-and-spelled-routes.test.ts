import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import express4 from 'express4';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, httpHarness } from '../guard/http/__fixtures__/http-harness.js';
import { policyMiddleware } from './index.js';

type Lib = typeof express;
const open: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of open.splice(0)) await close();
});

/** Starts `app` on 127.0.0.1 and returns a POST helper. */
async function serve(app: ReturnType<Lib>) {
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  open.push(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });
  const { port } = server.address() as AddressInfo;
  return async (path: string, body: unknown = { amount: '1', currency: 'USDC' }, headers = {}) => {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
}

function harness() {
  const h = httpHarness();
  open.push(() => h.approvals.close());
  return h;
}

/** A deny rule on the action `POST /pay`, in its own policy next to the harness's. */
const denyPayRoute = {
  id: 'routes',
  rules: [
    { action: 'deny' as const, code: 'route_blocked', when: { action: 'POST /pay' } },
    { action: 'allow' as const },
  ],
};

describe.each([
  ['Express 5', express],
  ['Express 4', express4 as unknown as Lib],
])('policyMiddleware mounted on the app, on %s', (_name, lib) => {
  it('derives one action for every spelling of a path that Express routes to /pay', async () => {
    const h = harness();
    h.engine.loadPolicy(denyPayRoute);
    const app = lib();
    app.use(lib.json());
    app.use(policyMiddleware({ engine: h.engine, resolveAgent: () => 'a' }));
    app.post('/pay', (_req, res) => {
      res.json({ paid: true });
    });
    const post = await serve(app);
    for (const path of ['/pay', '/PAY', '/pay/', '/Pay/', '/pAy?x=1']) {
      const res = await post(path);
      expect([path, res.status]).toEqual([path, 403]);
      const error = res.json.error as { decision: { reasons: Array<{ code: string }> } };
      expect(error.decision.reasons.map((r) => r.code)).toContain('route_blocked');
    }
    expect(await h.day()).toEqual({ spent: '0.000000', held: '0.000000' });
  });

  it('a route-level middleware also sees the normalized route path', async () => {
    const h = harness();
    h.engine.loadPolicy(denyPayRoute);
    const app = lib();
    app.use(lib.json());
    const router = lib.Router();
    router.post('/Pay', policyMiddleware({ engine: h.engine, resolveAgent: () => 'a' }), (_req, res) => {
      res.json({ paid: true });
    });
    app.use('/', router);
    const post = await serve(app);
    expect((await post('/PAY/')).status).toBe(403);
  });
});

describe('several policyMiddlewares on one request', () => {
  function twoLevels(h: ReturnType<typeof harness>, inner: ReturnType<typeof policyMiddleware>) {
    const outer = policyMiddleware({ engine: h.engine, resolveAgent: () => 'a', action: 'outer' });
    const app = express();
    app.use(express.json());
    app.use(outer);
    app.post('/pay', inner, (req, res) => {
      res.json({ action: req.bursar?.intent.action });
    });
    return app;
  }

  it('a nested middleware for another action is denied by its own rule; the outer hold is released', async () => {
    const h = harness();
    h.engine.loadPolicy({
      id: 'inner-blocked',
      rules: [{ action: 'deny', code: 'inner_blocked', when: { action: 'inner' } }, { action: 'allow' }],
    });
    const inner = policyMiddleware({ engine: h.engine, resolveAgent: () => 'a', action: 'inner' });
    const post = await serve(twoLevels(h, inner));
    const res = await post('/pay');
    expect(res.status).toBe(403);
    expect(await eventually(async () => (await h.day()).held === '0.000000')).toBe(true);
    expect(await h.day()).toEqual({ spent: '0.000000', held: '0.000000' });
  });

  it('an idempotency key belongs to the first middleware: the nested check is no conflict', async () => {
    const h = harness();
    const inner = policyMiddleware({ engine: h.engine, resolveAgent: () => 'a', action: 'inner' });
    const post = await serve(twoLevels(h, inner));
    const keyed = await post('/pay', { amount: '2', currency: 'USDC' }, { 'idempotency-key': 'k-1' });
    expect(keyed).toEqual({ status: 200, json: { action: 'inner' } });
    expect(await eventually(async () => (await h.day()).spent === '4.000000')).toBe(true);
    // The retry is answered by the first middleware from its record: not run again.
    const again = await post('/pay', { amount: '2', currency: 'USDC' }, { 'idempotency-key': 'k-1' });
    expect(again.status).toBe(409);
    expect((again.json.error as { code: string }).code).toBe('idempotency_replayed');
    expect(await h.day()).toEqual({ spent: '4.000000', held: '0.000000' });
  });

  it('an approval retry is completed by the first middleware only; a nested check never reuses it', async () => {
    const h = harness();
    h.engine.removePolicy(h.operator, 'http');
    h.engine.loadPolicy(
      {
        id: 'roomy',
        rules: [
          { action: 'require_approval', when: { amount: { gt: 50, currency: 'USDC' } } },
          { action: 'allow' },
        ],
        budgets: [{ id: 'day', window: 'daily', maxAmount: 1_000, currency: 'USDC' }],
      },
      { operator: h.operator },
    );
    const outer = policyMiddleware({
      engine: h.engine,
      resolveAgent: () => 'a',
      action: 'outer',
      approvals: h.approvals,
    });
    const inner = policyMiddleware({ engine: h.engine, resolveAgent: () => 'a', action: 'inner' });
    const app = express();
    app.use(express.json());
    app.use(outer);
    app.post('/pay', inner, (req, res) => {
      res.json({ action: req.bursar?.intent.action });
    });
    const post = await serve(app);
    const body = { amount: '60', currency: 'USDC' };
    const first = await post('/pay', body);
    expect(first.status).toBe(202);
    const approvalId = first.json.approvalId as string;
    await h.approvals.vote(approvalId, { operator: h.as('alice'), approve: true });
    // The outer check completes the approval; the inner one decides on its own action, which
    // needs approval too (above 50 USDC): it cannot wait for one inside this response.
    const retry = await post('/pay', body, { 'bursar-approval-id': approvalId });
    expect(retry.status).toBe(403);
    expect((retry.json.error as { code: string }).code).toBe('approval_unavailable');
    expect((await h.approvals.get(approvalId))?.status).toBe('consumed');
    expect(await eventually(async () => (await h.day()).held === '0.000000')).toBe(true);
    expect(await h.day()).toEqual({ spent: '0.000000', held: '0.000000' });
  });

  it('a nested require_approval is denied (approval_unavailable) and every hold released', async () => {
    const h = harness();
    h.engine.loadPolicy({
      id: 'inner-review',
      rules: [{ action: 'require_approval', when: { action: 'inner' } }, { action: 'allow' }],
    });
    const inner = policyMiddleware({
      engine: h.engine,
      resolveAgent: () => 'a',
      action: 'inner',
      approvals: h.approvals,
    });
    const post = await serve(twoLevels(h, inner));
    const res = await post('/pay', { amount: '5', currency: 'USDC' });
    expect(res.status).toBe(403);
    expect((res.json.error as { code: string }).code).toBe('approval_unavailable');
    expect(await eventually(async () => (await h.day()).held === '0.000000')).toBe(true);
    expect(await h.day()).toEqual({ spent: '0.000000', held: '0.000000' });
  });

  it('the same middleware entered twice, or an identical intent, holds once', async () => {
    const h = harness();
    const same = policyMiddleware({ engine: h.engine, resolveAgent: () => 'a', action: 'pay' });
    const twin = policyMiddleware({ engine: h.engine, resolveAgent: () => 'a', action: 'pay' });
    const app = express();
    app.use(express.json());
    app.use(same);
    const router = express.Router();
    router.use(same);
    router.post('/pay', twin, (req, res) => {
      res.json({ action: req.bursar?.intent.action });
    });
    app.use(router);
    const post = await serve(app);
    expect(await post('/pay', { amount: '3', currency: 'USDC' })).toEqual({
      status: 200,
      json: { action: 'pay' },
    });
    expect(await eventually(async () => (await h.day()).spent === '3.000000')).toBe(true);
    expect(await h.day()).toEqual({ spent: '3.000000', held: '0.000000' });
  });
});
