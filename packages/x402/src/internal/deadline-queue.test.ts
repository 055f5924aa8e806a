import { describe, expect, it } from 'vitest';
import { DeadlineQueue } from './deadline-queue.js';

class Late extends Error {}

function deferred<T>() {
  let resolve!: (value: T) => void;
  let reject!: (error: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('DeadlineQueue', () => {
  it("passes a call's result or error through, and keeps nothing waiting afterwards", async () => {
    const q = new DeadlineQueue(10_000, () => new Late('late'));
    await expect(q.run(Promise.resolve(42))).resolves.toBe(42);
    const boom = new Error('boom');
    await expect(q.run(Promise.reject(boom))).rejects.toBe(boom);
    expect(q.waiting).toBe(0);
    // A timer may still be armed, but it no longer holds the process open.
    expect(q.keepsProcessAlive).toBe(false);
  });

  it('rejects a call that outlives its deadline, and ignores its late result', async () => {
    const q = new DeadlineQueue(20, () => new Late('late'));
    const hung = deferred<string>();
    const started = performance.now();
    const call = q.run(hung.promise);
    expect(q.keepsProcessAlive).toBe(true);
    await expect(call).rejects.toBeInstanceOf(Late);
    expect(performance.now() - started).toBeGreaterThanOrEqual(18);
    hung.resolve('too late');
    await sleep(0);
    expect(q.waiting).toBe(0);
  });

  it('times out each waiting call at its own deadline, while finished calls are dropped', async () => {
    const q = new DeadlineQueue(40, () => new Late('late'));
    const first = deferred<string>();
    const outcomes: string[] = [];
    const track = (name: string, p: Promise<unknown>) =>
      p.then(
        () => outcomes.push(`${name}:ok`),
        (e: unknown) => outcomes.push(`${name}:${e instanceof Late ? 'timeout' : 'error'}`),
      );
    const a = track('a', q.run(first.promise));
    const b = track('b', q.run(new Promise(() => {})));
    await sleep(20);
    const c = track('c', q.run(new Promise(() => {})));
    const d = track('d', q.run(Promise.resolve('d')));
    first.resolve('a');
    await Promise.all([a, d]);
    expect([...outcomes].sort()).toEqual(['a:ok', 'd:ok']);
    await b;
    // b's deadline came; c started 20 ms later and is still within its own.
    expect(outcomes.slice(2)).toEqual(['b:timeout']);
    expect(q.waiting).toBe(1);
    await c;
    expect(outcomes.slice(2)).toEqual(['b:timeout', 'c:timeout']);
    expect(q.waiting).toBe(0);
    expect(q.keepsProcessAlive).toBe(false);
  });

  it('serves many calls on one queue without growing', async () => {
    const q = new DeadlineQueue(5_000, () => new Late('late'));
    for (let i = 0; i < 1_000; i++) await q.run(Promise.resolve(i));
    const all = await Promise.all(Array.from({ length: 100 }, (_, i) => q.run(Promise.resolve(i))));
    expect(all[99]).toBe(99);
    expect(q.waiting).toBe(0);
  });
});
