import { mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BursarError, type ControlChangedEvent } from '@bursar/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { pay, setup } from '../__fixtures__/engine.js';
import {
  loadPolicyFile,
  type PolicyWatcher,
  parsePolicyText,
  readPolicyFile,
  watchPolicyFile,
} from './files.js';

const YAML_POLICY = `
id: production
version: "7"
defaultAction: deny
rules:
  - id: too-big
    action: deny
    when:
      amount: { gt: "1000", currency: USDC }
  - id: ok
    action: allow
budgets:
  - window: daily
    maxAmount: "500.00"
    currency: usdc
`;

let dir: string;
const watchers: PolicyWatcher[] = [];

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bursar-policy-'));
});
afterEach(async () => {
  for (const w of watchers.splice(0)) w.close();
  await rm(dir, { recursive: true, force: true });
});

/** Resolves when `predicate` holds, polling; fails after `ms`. */
async function until(predicate: () => boolean, ms = 5_000): Promise<void> {
  const start = performance.now();
  while (!predicate()) {
    if (performance.now() - start > ms) throw new Error('condition not reached in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('policy files', () => {
  it('loads YAML and JSON files, which hash like the same object', async () => {
    const yamlPath = join(dir, 'policy.yaml');
    await writeFile(yamlPath, YAML_POLICY);
    const { engine } = setup();
    const ref = await loadPolicyFile(engine, yamlPath);
    expect(ref).toMatchObject({ id: 'production', version: '7' });
    expect((await engine.evaluate(pay({ amount: 1001 }))).outcome).toBe('deny');
    expect((await engine.evaluate(pay({ amount: 10 }))).outcome).toBe('allow');

    const jsonPath = join(dir, 'policy.json');
    await writeFile(jsonPath, JSON.stringify(await readPolicyFile(yamlPath)));
    const { engine: other } = setup();
    expect((await loadPolicyFile(other, jsonPath)).hash).toBe(ref.hash);
  });

  it('reports unreadable, unparsable and invalid files with typed errors', async () => {
    const { engine } = setup();
    await expect(loadPolicyFile(engine, join(dir, 'missing.yaml'))).rejects.toMatchObject({
      code: 'ERR_BURSAR_POLICY_FILE',
    });
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{ "id": ');
    await expect(loadPolicyFile(engine, bad)).rejects.toMatchObject({ code: 'ERR_BURSAR_POLICY_FILE' });
    const invalid = join(dir, 'invalid.yml');
    await writeFile(invalid, 'id: p\nrules:\n  - action: perhaps\n');
    const error = await loadPolicyFile(engine, invalid).catch((e: unknown) => e);
    expect(BursarError.hasCode(error, 'ERR_BURSAR_INVALID_POLICY')).toBe(true);
    expect((error as BursarError).issues[0]!.path).toBe('rules.0.action');
    expect(engine.getPolicies()).toEqual([]);
  });

  it('parses text without an extension as JSON, then YAML', () => {
    expect(parsePolicyText('{"id":"a"}')).toEqual({ id: 'a' });
    expect(parsePolicyText('id: a\nrules: []')).toEqual({ id: 'a', rules: [] });
    expect(() => parsePolicyText('id: [', { format: 'yaml' })).toThrow(/YAML/);
  });

  it('reloads a changed file; an invalid change keeps the old policy in force and says why', async () => {
    const path = join(dir, 'policy.yaml');
    await writeFile(path, YAML_POLICY);
    const { engine, operator, events } = setup();
    const reloads: string[] = [];
    const failures: unknown[] = [];
    const watcher = await watchPolicyFile(engine, path, {
      operator,
      debounceMs: 20,
      onReload: (ref) => reloads.push(ref.version),
      onError: (e) => failures.push(e),
    });
    watchers.push(watcher);
    expect(watcher.current.version).toBe('7');
    await engine.evaluate(pay()); // from now on, changes need the operator

    await writeFile(path, YAML_POLICY.replace('version: "7"', 'version: "8"').replace('"1000"', '"5"'));
    await until(() => reloads.length === 1);
    expect(reloads).toEqual(['8']);
    expect((await engine.evaluate(pay({ amount: 10 }))).outcome).toBe('deny');

    await writeFile(path, YAML_POLICY.replace('action: allow', 'action: sometimes'));
    await until(() => failures.length > 0);
    expect(BursarError.hasCode(failures[0], 'ERR_BURSAR_INVALID_POLICY')).toBe(true);
    expect(engine.getPolicies().map((p) => p.version)).toEqual(['8']);
    expect((await engine.evaluate(pay({ amount: 1 }))).outcome).toBe('allow');
    const failed = events
      .map((e) => e.payload as ControlChangedEvent)
      .find((p) => p.kind === 'policy.reload_failed');
    expect(failed).toMatchObject({
      actor: 'ops@example.com',
      target: 'production',
      reason: expect.stringMatching(/rules\.1\.action/),
    });

    // An editor's atomic save (write elsewhere, rename over) is picked up too.
    const tmp = join(dir, '.policy.yaml.tmp');
    await writeFile(tmp, YAML_POLICY.replace('version: "7"', 'version: "9"'));
    await rename(tmp, path);
    await until(() => reloads.length === 2);
    expect(watcher.current.version).toBe('9');
  });

  it('without the operator, reloads after the first decision are refused and reported', async () => {
    const path = join(dir, 'policy.json');
    await writeFile(path, JSON.stringify({ id: 'p', rules: [{ action: 'allow' }] }));
    const { engine } = setup();
    const failures: unknown[] = [];
    watchers.push(await watchPolicyFile(engine, path, { debounceMs: 20, onError: (e) => failures.push(e) }));
    await engine.evaluate(pay());
    await writeFile(path, JSON.stringify({ id: 'p', rules: [{ action: 'deny' }] }));
    await until(() => failures.length > 0);
    expect(BursarError.hasCode(failures[0], 'ERR_BURSAR_UNAUTHORIZED')).toBe(true);
    expect((await engine.evaluate(pay())).outcome).toBe('allow');
  });

  it('a file whose id changes replaces the policy it loaded before', async () => {
    const path = join(dir, 'policy.json');
    await writeFile(path, JSON.stringify({ id: 'old', rules: [{ action: 'allow' }] }));
    const { engine, operator } = setup();
    const reloads: string[] = [];
    watchers.push(
      await watchPolicyFile(engine, path, { operator, debounceMs: 20, onReload: (r) => reloads.push(r.id) }),
    );
    await writeFile(path, JSON.stringify({ id: 'new', rules: [{ action: 'allow' }] }));
    await until(() => reloads.length === 1);
    expect(engine.getPolicies().map((p) => p.id)).toEqual(['new']);
  });

  it('close() stops watching', async () => {
    const path = join(dir, 'policy.json');
    await writeFile(path, JSON.stringify({ id: 'p', rules: [{ action: 'allow' }] }));
    const { engine, operator } = setup();
    const watcher = await watchPolicyFile(engine, path, { operator, debounceMs: 10 });
    watcher.close();
    await writeFile(path, JSON.stringify({ id: 'p', rules: [{ action: 'deny' }] }));
    await new Promise((r) => setTimeout(r, 100));
    expect((await engine.evaluate(pay())).outcome).toBe('allow');
  });
});

describe('policy file renames without an operator', () => {
  it('keep the old policy and report', async () => {
    const path = join(dir, 'policy.json');
    await writeFile(path, JSON.stringify({ id: 'old', rules: [{ action: 'allow' }] }));
    const { engine } = setup();
    const failures: unknown[] = [];
    watchers.push(await watchPolicyFile(engine, path, { debounceMs: 20, onError: (e) => failures.push(e) }));
    await writeFile(path, JSON.stringify({ id: 'new', rules: [{ action: 'deny' }] }));
    await until(() => failures.length > 0);
    expect(BursarError.hasCode(failures[0], 'ERR_BURSAR_UNAUTHORIZED')).toBe(true);
    expect(engine.getPolicies().map((p) => p.id)).toEqual(['old']);
  });
});
