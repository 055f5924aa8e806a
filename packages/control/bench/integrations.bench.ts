/**
 * Benchmarks of guard() and the HTTP integrations. Run: pnpm --filter @bursar/control bench
 * Prints one `BENCH {json}` line per measurement (nanoseconds). The HTTP figures come in
 * pairs (with and without Bursar) so the difference is the integration's cost.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { ManualClock } from '@bursar/core';
import { bench } from '@bursar/core/testing';
import express from 'express';
import Fastify from 'fastify';
import { policyMiddleware } from '../src/express/index.js';
import { policyPlugin } from '../src/fastify/index.js';
import { allowAll, guard, PolicyEngine } from '../src/index.js';

function engine(): PolicyEngine {
  const e = new PolicyEngine({ clock: new ManualClock(Date.parse('2026-03-02T09:00:00Z')) });
  e.loadPolicy({
    id: 'bench',
    rules: [allowAll()],
    budgets: [{ window: 'daily', maxAmount: '1000000000', currency: 'USDC' }],
  });
  return e;
}

const body = { amount: '1.25', currency: 'USDC', recipient: 'https://api.example.com/v1' };

// ─── guard() ────────────────────────────────────────────────────────────────────────────
{
  const e = engine();
  await bench(
    'control: engine authorize + capture, raw input (baseline for guard)',
    async (i) => {
      const d = await e.authorize({ agentId: `a${i % 100}`, action: 'transfer', ...body });
      await e.capture(d.holdId!);
    },
    { iterations: 50_000 },
  );
  const transfer = guard(async (to: string, amount: string) => `${to}:${amount}`, {
    engine: e,
    agentId: 'bench-bot',
    action: 'transfer',
    mapArgs: (to, amount) => ({ amount, currency: 'USDC', recipient: to }),
  });
  await bench(
    'control: guard() call (authorize + run + capture)',
    () => transfer(body.recipient, body.amount),
    {
      iterations: 50_000,
    },
  );
}

// ─── Express over HTTP on 127.0.0.1 ─────────────────────────────────────────────────────
{
  const app = express();
  app.use(express.json());
  app.use((req, _res, next) => {
    (req as express.Request & { auth?: { agentId: string } }).auth = { agentId: 'bench-bot' };
    next();
  });
  app.post('/plain', (_req, res) => {
    res.json({ ok: true });
  });
  app.post('/pay', policyMiddleware({ engine: engine() }), (_req, res) => {
    res.json({ ok: true });
  });
  const server = app.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const post = async (path: string) => {
    const res = await fetch(`${url}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    await res.arrayBuffer();
    if (res.status !== 200) throw new Error(`unexpected ${res.status}`);
  };
  await bench('control: Express 5 POST over HTTP, no middleware (baseline)', () => post('/plain'), {
    iterations: 3_000,
    warmup: 500,
  });
  await bench(
    'control: Express 5 POST over HTTP, policyMiddleware (authorize + capture)',
    () => post('/pay'),
    {
      iterations: 3_000,
      warmup: 500,
    },
  );
  server.closeAllConnections();
  server.close();
}

// ─── Fastify through inject() (no sockets) ──────────────────────────────────────────────
{
  const app = Fastify({ logger: false });
  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (request) => {
    Object.assign(request, { auth: { agentId: 'bench-bot' } });
  });
  await app.register(async (paid) => {
    await paid.register(policyPlugin, { engine: engine() });
    paid.post('/pay', async () => ({ ok: true }));
  });
  app.post('/plain', async () => ({ ok: true }));
  await app.ready();
  // inject() returns a thenable chain, not a Promise: await it so the whole request is timed.
  const inject = async (url: string) => {
    const res = await app.inject({ method: 'POST', url, payload: body });
    if (res.statusCode !== 200) throw new Error(`unexpected ${res.statusCode}`);
  };
  await bench('control: Fastify 5 inject, no plugin (baseline)', () => inject('/plain'), {
    iterations: 10_000,
  });
  await bench(
    'control: Fastify 5 inject, policyPlugin (authorize; capture on finish)',
    () => inject('/pay'),
    {
      iterations: 10_000,
    },
  );
  await app.close();
}
