import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { SCENARIOS } from '../scenarios/index.js';
import { stripAnsi } from './colors.js';
import { type CliIo, main } from './main.js';

const ESC = '\u001b[';

class Sink {
  text = '';
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}

async function run(argv: string[], over: Partial<CliIo> = {}) {
  const stdout = new Sink();
  const stderr = new Sink();
  const code = await main(argv, { stdout, stderr, env: {}, stdoutIsTTY: false, stderrIsTTY: false, ...over });
  return { code, out: stdout.text, err: stderr.text };
}

const dir = mkdtempSync(join(tmpdir(), 'bursar-demo-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bursar-demo', () => {
  it('prints one line per payment from the engine, then a summary, and exits 0', async () => {
    const { code, out } = await run(['--scenario', 'overspend', '--seed', '3']);
    expect(code).toBe(0);
    const lines = out.split('\n').filter((l) => /^\s+\d+\s+report-bot/.test(l));
    expect(lines).toHaveLength(6);
    expect(lines.filter((l) => /\ballowed\b/.test(l))).toHaveLength(4);
    expect(lines.filter((l) => /\bblocked\s+budget_exceeded\b/.test(l))).toHaveLength(2);
    expect(out).toContain('1.25 USDC  reports.sandbox/report');
    expect(out).toContain('the rails really charged: 5.00 USDC');
    expect(out).toContain('1/1 scenarios behaved as expected (seed 3)');
    expect(out).not.toContain(ESC);
  });

  it('--json prints one parseable report whose figures match the ledgers', async () => {
    const { code, out } = await run(['--json', '-s', 'multi-protocol,retry-storm']);
    expect(code).toBe(0);
    const report = JSON.parse(out);
    expect(report.passed).toBe(true);
    expect(report.scenarios.map((s: { id: string }) => s.id)).toEqual(['multi-protocol', 'retry-storm']);
    expect(report.charged).toEqual({ USDC: '101.500000', USD: '120.00' });
    expect(report.scenarios[0].chargedByRail).toEqual({
      x402: { USDC: '45.000000' },
      acp: { USDC: '35.000000' },
      ap2: { USDC: '20.000000' },
    });
  });

  it('colours only when asked or on a terminal, and never with NO_COLOR', async () => {
    const plainTty = await run(['-s', 'basic-payment'], { stdoutIsTTY: true, env: { NO_COLOR: '1' } });
    expect(plainTty.out).not.toContain(ESC);
    const tty = await run(['-s', 'basic-payment'], { stdoutIsTTY: true });
    expect(tty.out).toContain(`${ESC}32mallowed`);
    const forced = await run(['-s', 'basic-payment', '--color']);
    expect(stripAnsi(forced.out)).toBe(stripAnsi(tty.out));
    const off = await run(['-s', 'basic-payment', '--no-color'], { stdoutIsTTY: true });
    expect(off.out).not.toContain(ESC);
  });

  it('shows progress on a terminal stderr only, and clears it', async () => {
    const { err } = await run(['-s', 'basic-payment'], { stderrIsTTY: true });
    expect(err).toContain('[1/1] Basic payment');
    expect(err.endsWith('\r\u001b[2K')).toBe(true);
    const piped = await run(['-s', 'basic-payment']);
    expect(piped.err).toBe('');
  });

  it('--list names every scenario; --help and --version answer and exit 0', async () => {
    const list = await run(['--list']);
    expect(list.code).toBe(0);
    for (const s of SCENARIOS) expect(list.out).toContain(s.id);
    expect((await run(['--help'])).out).toContain('Usage: bursar-demo');
    expect((await run(['--version'])).out).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('usage mistakes exit 2 with a message that says what to do', async () => {
    const bad = await run(['--sede', '1']);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('Unknown option --sede');
    const unknown = await run(['-s', 'overspent']);
    expect(unknown.code).toBe(2);
    expect(unknown.err).toContain('Unknown scenario "overspent"; known: basic-payment');
    const missing = await run(['--seed']);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--seed needs a value');
  });

  it('--policy runs the scenarios against your policy file; a broken one exits 1', async () => {
    const loose = join(dir, 'loose.json');
    writeFileSync(loose, JSON.stringify({ id: 'loose', rules: [{ action: 'allow' }] }));
    const failed = await run(['--policy', loose, '-s', 'overspend,concurrent-burst']);
    expect(failed.code).toBe(1);
    expect(failed.out).toContain('expected 4 allowed, got 6');
    expect(failed.out).toContain('2 of 2 scenarios did not behave as expected');

    const strict = join(dir, 'strict.yaml');
    writeFileSync(
      strict,
      'id: strict\nrules:\n  - action: allow\nbudgets:\n  - { window: daily, scope: agent, maxAmount: 5, currency: USDC }\n',
    );
    const ok = await run(['--policy', strict, '-s', 'overspend']);
    expect(ok.out).toContain(`against ${strict}`);
    expect(ok.code).toBe(0);

    const invalid = join(dir, 'invalid.json');
    writeFileSync(invalid, JSON.stringify({ id: 'x', rules: [{ action: 'maybe' }] }));
    const rejected = await run(['--policy', invalid]);
    expect(rejected.code).toBe(2);
    expect(rejected.err).toContain(`The policy in ${invalid} is not valid`);
    expect(rejected.err).toContain('rules.0.action');
  });

  it('as a process: the bin exits non-zero when a scenario does not behave as expected', async () => {
    const loose = join(dir, 'loose-bin.json');
    writeFileSync(loose, JSON.stringify({ id: 'loose', rules: [{ action: 'allow' }] }));
    const cli = fileURLToPath(new URL('../cli.ts', import.meta.url));
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(
        process.execPath,
        ['--import', 'tsx', cli, '--no-color', '--policy', loose, '--scenario', 'overspend'],
        { cwd: fileURLToPath(new URL('../..', import.meta.url)), timeout: 60_000 },
        (error, stdout) => resolve({ code: error ? ((error as { code?: number }).code ?? null) : 0, stdout }),
      );
    });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('1 of 1 scenarios did not behave as expected');
  });

  it('as a process: stops quietly when its reader goes away (| head)', async () => {
    const cli = fileURLToPath(new URL('../cli.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', cli, '--no-color'], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((resolve) => child.on('close', (c) => resolve(c)));
    expect(stderr).not.toContain('EPIPE');
    expect(code).toBe(0);
  }, 60_000);
});
