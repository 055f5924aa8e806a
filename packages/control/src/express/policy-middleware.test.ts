import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import express4 from 'express4';
import { describe, expect, it } from 'vitest';
import { APPROVAL_ID_HEADER as MAIN_APPROVAL_ID_HEADER } from '../approvals/index.js';
import { eventually, httpHarness } from '../guard/http/__fixtures__/http-harness.js';
import { httpScenarios } from '../guard/http/__fixtures__/http-scenarios.js';
import { expressServer } from './__fixtures__/express-server.js';
import { APPROVAL_ID_HEADER, approvalStatusHandler, policyMiddleware } from './index.js';

describe.each([
  ['Express 5', express],
  ['Express 4', express4],
])('policyMiddleware on %s', (_name, lib) => {
  it('runs on the intended major version', () => {
    const major = _name === 'Express 5' ? 5 : 4;
    // Express 5 dropped app.del; Express 4 still has it.
    expect(typeof (lib() as unknown as { del?: unknown }).del === 'function').toBe(major === 4);
  });
  httpScenarios(expressServer(lib));
});

describe('express options', () => {
  it('policyMiddleware and approvalStatusHandler validate their options at creation', () => {
    expect(() => policyMiddleware({} as never)).toThrow(/Invalid policyMiddleware options: engine/);
    expect(() => approvalStatusHandler({} as never)).toThrow(
      /Invalid approvalStatusHandler options: approvals/,
    );
  });

  it('uses the same retry header as the approval workflow', () => {
    expect(APPROVAL_ID_HEADER).toBe(MAIN_APPROVAL_ID_HEADER);
  });

  // An app-level middleware used to exempt every later one ("one hold per request"), so a
  // route-level middleware for another action, with its own deny rules and budgets, never
  // ran. Each middleware now checks the request: the inner one authorizes its own action and
  // holds its own amount (so the payment counts against the shared daily budget twice), and
  // both holds are captured with the 2xx response. Only the same middleware entered again,
  // or an identical intent, is let through without a second hold.
  it('a second policyMiddleware for another action authorizes too; both holds settle with the response', async () => {
    const h = httpHarness();
    const outer = policyMiddleware({ engine: h.engine, resolveAgent: () => 'a', action: 'outer' });
    const inner = policyMiddleware({ engine: h.engine, resolveAgent: () => 'a', action: 'inner' });
    const app = express();
    app.use(express.json());
    app.use(outer);
    app.post('/pay', inner, (req, res) => {
      res.json({ action: req.bursar?.intent.action });
    });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const { port } = server.address() as AddressInfo;
      const res = await fetch(`http://127.0.0.1:${port}/pay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ amount: '1', currency: 'USDC' }),
      });
      expect(await res.json()).toEqual({ action: 'inner' });
      expect(await eventually(async () => (await h.day()).spent === '2.000000')).toBe(true);
      expect(await h.day()).toEqual({ spent: '2.000000', held: '0.000000' });
    } finally {
      server.closeAllConnections();
      server.close();
      await h.approvals.close();
    }
  });
});
