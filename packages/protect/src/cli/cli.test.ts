import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ManualClock } from '@bursar/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys, otherKeys, T0 } from '../__fixtures__/logs.js';
import { exportJsonl } from '../export/export-jsonl.js';
import { ProvenanceLog } from '../provenance/provenance-log.js';
import { type CliIo, runCli } from './run-cli.js';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cliSource = join(packageDir, 'src', 'cli.ts');

/** Runs the real bin in a child process (through tsx, so no build is needed). */
function bursarAudit(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', cliSource, ...args],
      { cwd: packageDir, env: { ...process.env, NO_COLOR: '', ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

let dir: string;
let exportPath: string;
let publicKeyPath: string;
let checkpointsPath: string;
let exportText: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'bursar-cli-'));
  const clock = new ManualClock(T0);
  const log = new ProvenanceLog({ clock, signer: { privateKey: keys.privateKey }, checkpointEvery: 3 });
  for (let i = 0; i < 8; i++) {
    clock.advance(1000);
    await log.append('payment.settled', {
      agentId: 'research-bot',
      intentId: `int_${i}`,
      amount: `${100 + i}.00`,
      currency: 'USDC',
    });
  }
  exportPath = join(dir, 'audit.jsonl');
  await exportJsonl({ from: log, to: exportPath });
  exportText = await readFile(exportPath, 'utf8');
  publicKeyPath = join(dir, 'audit.pub.pem');
  await writeFile(publicKeyPath, keys.publicKey.export({ type: 'spki', format: 'pem' }));
  checkpointsPath = join(dir, 'checkpoints.json');
  await writeFile(checkpointsPath, JSON.stringify(log.checkpoints()));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('bursar-audit verify (child process)', () => {
  it('verifies an export: exit 0 with a summary', async () => {
    const r = await bursarAudit([
      'verify',
      exportPath,
      '--public-key',
      publicKeyPath,
      '--checkpoints',
      checkpointsPath,
    ]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`OK ${exportPath}: 10 records, 2 checkpoints (signatures verified)`);
    expect(r.stdout).toContain('Agrees with 2 published checkpoints.');
    expect(r.stdout).not.toContain('\u001b[');
  });

  it('fails with the record number when one byte is flipped: exit 1', async () => {
    const tampered = join(dir, 'tampered.jsonl');
    const lines = exportText.split('\n');
    // Flip one byte in the record on line 6 (line 4 is a checkpoint): 104.00 becomes 105.00.
    lines[5] = lines[5]!.replace(
      '"amount":"104.00","currency":"USDC","intentId"',
      '"amount":"105.00","currency":"USDC","intentId"',
    );
    expect(lines.join('\n')).not.toBe(exportText);
    await writeFile(tampered, lines.join('\n'));
    const r = await bursarAudit(['verify', tampered]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`TAMPERED ${tampered}: line 6 (record 6): edited`);

    const json = await bursarAudit(['verify', tampered, '--json']);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, line: 6, seq: 6, reason: 'edited' });
  });

  it('exits 2 for usage errors and unreadable files', async () => {
    expect((await bursarAudit([])).code).toBe(2);
    const missing = await bursarAudit(['verify', join(dir, 'nope.jsonl')]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Cannot read');
    const json = await bursarAudit(['verify', '--json']);
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: 'usage', message: 'missing <file>' });
  });
});

describe('runCli (in process)', () => {
  function io(isTTY = false, env: Record<string, string | undefined> = {}) {
    const out: string[] = [];
    const err: string[] = [];
    const value: CliIo = {
      stdout: { write: (t: string) => out.push(t), isTTY },
      stderr: { write: (t: string) => err.push(t) },
      env,
    };
    return { value, out, err };
  }

  it('rejects signatures made with another key', async () => {
    const otherPub = join(dir, 'other.pub.pem');
    await writeFile(otherPub, otherKeys.publicKey.export({ type: 'spki', format: 'pem' }));
    const { value, out } = io();
    expect(await runCli(['verify', exportPath, '--public-key', otherPub], value)).toBe(1);
    expect(out.join('')).toContain('line 4 (record 4): bad_signature');
  });

  it('detects truncation only against published checkpoints, and says so', async () => {
    const cut = join(dir, 'cut.jsonl');
    await writeFile(cut, `${exportText.split('\n').slice(0, 2).join('\n')}\n`);
    const plain = io();
    expect(await runCli(['verify', cut], plain.value)).toBe(0);
    expect(plain.out.join('')).toContain('no published checkpoints given');
    const anchored = io();
    expect(await runCli(['verify', cut, '--checkpoints', checkpointsPath], anchored.value)).toBe(1);
    expect(anchored.out.join('')).toContain('truncated');
  });

  it('colours only on a TTY without NO_COLOR, and reads JSONL checkpoints and inline PEM', async () => {
    const jsonl = join(dir, 'checkpoints.jsonl');
    const list = JSON.parse(await readFile(checkpointsPath, 'utf8')) as unknown[];
    await writeFile(jsonl, list.map((c) => JSON.stringify(c)).join('\n'));
    const pem = keys.publicKey.export({ type: 'spki', format: 'pem' }) as string;
    const tty = io(true);
    expect(
      await runCli(['verify', exportPath, '--checkpoints', jsonl, `--public-key=${pem}`], tty.value),
    ).toBe(0);
    expect(tty.out.join('')).toContain('\u001b[32mOK\u001b[0m');
    const noColor = io(true, { NO_COLOR: '1' });
    expect(await runCli(['verify', exportPath], noColor.value)).toBe(0);
    expect(noColor.out.join('')).not.toContain('\u001b[');
  });

  it('explains usage problems', async () => {
    const cases: [string[], string][] = [
      [['frobnicate', 'x'], 'unknown command'],
      [['verify', 'a', 'b'], 'unexpected argument'],
      [['verify', exportPath, '--public-key', exportPath], 'not an Ed25519 public key'],
      [['verify', exportPath, '--checkpoints', publicKeyPath], 'checkpoint'],
      [['verify', exportPath, '--bogus'], 'bogus'],
    ];
    for (const [args, message] of cases) {
      const { value, err } = io();
      expect(await runCli(args, value)).toBe(2);
      expect(err.join('')).toContain(message);
    }
    const help = io();
    expect(await runCli(['--help'], help.value)).toBe(0);
    expect(help.out.join('')).toContain('Usage: bursar-audit verify');
  });
});
