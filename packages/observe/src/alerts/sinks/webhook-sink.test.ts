import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type AlertEvent, BursarError, ManualClock, SIGNATURE_HEADER, verifyWebhook } from '@bursar/core';
import { afterEach, describe, expect, it } from 'vitest';
import { ALERT_ID_HEADER, webhookSink } from './webhook-sink.js';

const SECRET = 'whsec_observe_test_0001';
const NOW = Date.parse('2026-03-02T10:00:00Z');

interface Received {
  body: string;
  signature: string | undefined;
  alertId: string | undefined;
  verified: ReturnType<typeof verifyWebhook>;
}

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.closeAllConnections();
          s.close(() => resolve());
        }),
    ),
  );
});

/** A receiver on 127.0.0.1 that verifies each delivery with core's helper; `answer` picks the status. */
async function receiver(answer: (n: number) => number, now = NOW) {
  const received: Received[] = [];
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const signature = req.headers[SIGNATURE_HEADER] as string | undefined;
      received.push({
        body,
        signature,
        alertId: req.headers[ALERT_ID_HEADER] as string | undefined,
        verified: verifyWebhook({ secrets: ['whsec_rotated_out_000', SECRET], header: signature, body, now }),
      });
      res.statusCode = answer(received.length);
      res.end();
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/alerts`, received };
}

const alert: AlertEvent = {
  at: NOW,
  alertId: 'alert_1',
  kind: 'large_transaction',
  severity: 'warning',
  message: 'bot paid 1500.00 USD',
  agentId: 'bot',
  dedupKey: 'large_transaction:bot:USD',
  facts: { amount: '1500.00', currency: 'USD' },
};

describe('webhookSink', () => {
  it('POSTs the alert signed so the receiving helper verifies it', async () => {
    const r = await receiver(() => 204);
    const sink = webhookSink({ url: r.url, secret: SECRET, clock: new ManualClock(NOW) });
    await sink.send(alert);
    expect(r.received).toHaveLength(1);
    const [got] = r.received;
    expect(got!.verified).toEqual({ ok: true, timestamp: NOW });
    expect(got!.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(got!.alertId).toBe('alert_1');
    expect(JSON.parse(got!.body)).toEqual({ type: 'alert.raised', alert });
    // A tampered body does not verify.
    expect(
      verifyWebhook({
        secrets: [SECRET],
        header: got!.signature,
        body: got!.body.replace('1500', '15'),
        now: NOW,
      }).ok,
    ).toBe(false);
  });

  it('retries 5xx with back-off, signing each attempt, until it succeeds', async () => {
    const r = await receiver((n) => (n < 3 ? 503 : 200));
    const sink = webhookSink({
      url: r.url,
      secret: SECRET,
      clock: new ManualClock(NOW),
      retries: 3,
      backoffMs: 1,
    });
    await sink.send(alert);
    expect(r.received).toHaveLength(3);
    expect(r.received.every((x) => x.verified.ok)).toBe(true);
  });

  it('gives up after the bounded retries with a typed error', async () => {
    const r = await receiver(() => 500);
    const sink = webhookSink({
      url: r.url,
      secret: SECRET,
      clock: new ManualClock(NOW),
      retries: 2,
      backoffMs: 1,
    });
    const error = await Promise.resolve(sink.send(alert)).catch((e: unknown) => e);
    expect(r.received).toHaveLength(3);
    expect(BursarError.hasCode(error, 'ERR_BURSAR_OBSERVE_WEBHOOK_DELIVERY')).toBe(true);
    expect((error as BursarError).details).toMatchObject({ status: 500, alertId: 'alert_1' });
  });

  it('does not retry a 4xx answer other than 408 and 429', async () => {
    const r = await receiver(() => 401);
    const sink = webhookSink({
      url: r.url,
      secret: SECRET,
      clock: new ManualClock(NOW),
      retries: 3,
      backoffMs: 1,
    });
    await expect(sink.send(alert)).rejects.toThrow(/HTTP 401/);
    expect(r.received).toHaveLength(1);
  });

  it('retries when nobody listens, and close() cancels the back-off', async () => {
    const r = await receiver(() => 200);
    const url = r.url;
    await new Promise<void>((resolve) => servers.pop()!.close(() => resolve()));
    const sink = webhookSink({ url, secret: SECRET, retries: 5, backoffMs: 60_000, maxBackoffMs: 60_000 });
    const pending = Promise.resolve(sink.send(alert)).catch((e: unknown) => e);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await sink.close?.();
    const error = await pending;
    expect((error as Error).message).toMatch(/sink closed/);
  });

  it('validates its options', () => {
    expect(() => webhookSink({ url: 'ftp://x', secret: SECRET })).toThrow(/Invalid webhookSink options/);
    expect(() => webhookSink({ url: 'https://ops.example.com', secret: 'short' })).toThrow(/at least 16/);
  });
});
