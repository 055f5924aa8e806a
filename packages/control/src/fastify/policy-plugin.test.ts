import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { httpHarness } from '../guard/http/__fixtures__/http-harness.js';
import { httpScenarios } from '../guard/http/__fixtures__/http-scenarios.js';
import { fastifyServer } from './__fixtures__/fastify-server.js';
import { policyPlugin } from './index.js';

describe('policyPlugin on Fastify 5', () => {
  httpScenarios(fastifyServer);
});

describe('policyPlugin routes and config', () => {
  const open: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const close of open.splice(0)) await close();
  });

  async function app(options: Record<string, unknown> = {}) {
    const h = httpHarness();
    const fastify = Fastify({ logger: false });
    open.push(
      () => fastify.close(),
      () => h.approvals.close(),
    );
    fastify.decorateRequest('auth', null);
    fastify.addHook('onRequest', async (request) => {
      const agent = request.headers['x-agent'];
      if (typeof agent === 'string') Object.assign(request, { auth: { agentId: agent } });
    });
    await fastify.register(policyPlugin, { engine: h.engine, approvals: h.approvals, ...options });
    fastify.get('/health', { config: { bursar: false } }, async (request) => ({
      ok: true,
      bursar: request.bursar,
    }));
    fastify.post('/buy', { config: { bursar: { action: 'buy' } } }, async (request) => ({
      action: request.bursar?.intent.action,
    }));
    await fastify.ready();
    return { fastify, h };
  }

  const body = { amount: '1', currency: 'USDC', recipient: 'https://api.example.com/' };

  it('a route with config.bursar = false is not checked; config.bursar.action names the action', async () => {
    const { fastify } = await app();
    const health = await fastify.inject({ method: 'GET', url: '/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toEqual({ ok: true, bursar: null });
    const buy = await fastify.inject({
      method: 'POST',
      url: '/buy',
      headers: { 'x-agent': 'a' },
      payload: body,
    });
    expect(buy.json()).toEqual({ action: 'buy' });
  });

  it('unknown routes stay 404 and are not checked', async () => {
    const { fastify } = await app();
    const res = await fastify.inject({ method: 'POST', url: '/nope', payload: body });
    expect(res.statusCode).toBe(404);
  });

  it('serves approval status on a custom route, or none', async () => {
    const custom = await app({
      statusRoute: '/approvals/:id/status',
      statusUrl: (id: string) => `/approvals/${id}/status`,
    });
    const res = await custom.fastify.inject({
      method: 'POST',
      url: '/buy',
      headers: { 'x-agent': 'a' },
      payload: { ...body, amount: '60' },
    });
    expect(res.statusCode).toBe(202);
    const { statusUrl } = res.json() as { statusUrl: string };
    expect(statusUrl).toMatch(/^\/approvals\/.+\/status$/);
    const status = await custom.fastify.inject({
      method: 'GET',
      url: statusUrl,
      headers: { 'x-agent': 'a' },
    });
    expect(status.json()).toMatchObject({ status: 'pending', agentId: 'a' });
    const anonymous = await custom.fastify.inject({ method: 'GET', url: statusUrl });
    expect(anonymous.statusCode).toBe(401);

    const none = await app({ statusRoute: false });
    expect((await none.fastify.inject({ method: 'GET', url: '/bursar/approvals/x' })).statusCode).toBe(404);
  });

  // As with Express: an outer registration no longer exempts an inner one for another action.
  // The inner one authorizes (and holds) its own action; the same registration, or an
  // identical intent, is not held twice.
  it('an inner registration for another action checks the request too', async () => {
    const h = httpHarness();
    const fastify = Fastify({ logger: false });
    open.push(
      () => fastify.close(),
      () => h.approvals.close(),
    );
    await fastify.register(policyPlugin, { engine: h.engine, resolveAgent: () => 'a', action: 'outer' });
    await fastify.register(async (child) => {
      await child.register(policyPlugin, { engine: h.engine, resolveAgent: () => 'a', action: 'inner' });
      child.post('/nested', async (request) => ({ action: request.bursar?.intent.action }));
    });
    const res = await fastify.inject({ method: 'POST', url: '/nested', payload: body });
    expect(res.json()).toEqual({ action: 'inner' });
    expect(await h.day()).toEqual({ spent: '2.000000', held: '0.000000' });
  });

  it("an inner registration's deny rule applies under an outer one; the outer hold is released", async () => {
    const h = httpHarness();
    h.engine.loadPolicy({
      id: 'inner-blocked',
      rules: [{ action: 'deny', code: 'inner_blocked', when: { action: 'inner' } }, { action: 'allow' }],
    });
    const fastify = Fastify({ logger: false });
    open.push(
      () => fastify.close(),
      () => h.approvals.close(),
    );
    await fastify.register(policyPlugin, { engine: h.engine, resolveAgent: () => 'a', action: 'outer' });
    await fastify.register(async (child) => {
      await child.register(policyPlugin, { engine: h.engine, resolveAgent: () => 'a', action: 'inner' });
      child.post('/nested', async () => ({ ran: true }));
    });
    fastify.post('/plain', async (request) => ({ action: request.bursar?.intent.action }));
    const res = await fastify.inject({ method: 'POST', url: '/nested', payload: body });
    expect(res.statusCode).toBe(403);
    expect(
      (res.json() as { error: { decision: { reasons: Array<{ code: string }> } } }).error.decision.reasons[0]!
        .code,
    ).toBe('inner_blocked');
    expect(await h.day()).toEqual({ spent: '0.000000', held: '0.000000' });
    // Routes outside the child context are checked by the outer registration only.
    const plain = await fastify.inject({ method: 'POST', url: '/plain', payload: body });
    expect(plain.json()).toEqual({ action: 'outer' });
    expect(await h.day()).toEqual({ spent: '1.000000', held: '0.000000' });
  });

  it('rejects bad options at registration', async () => {
    const fastify = Fastify({ logger: false });
    open.push(() => fastify.close());
    await expect(
      fastify.register(policyPlugin, { engine: httpHarness().engine, statusRoute: '/no-id' }),
    ).rejects.toThrow(/Invalid policyPlugin options: statusRoute/);
  });
});
