import { spawn, spawnSync } from 'node:child_process';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { type ApprovalHarness, pay, setupApprovals } from '../__fixtures__/approvals.js';
import { ApprovalErrorCode } from '../codes.js';
import type { ApprovalManagerOptions } from '../options.js';
import { describeRequest, terminalChannel } from './terminal-channel.js';

const harnesses: ApprovalHarness[] = [];
function setup(options: ApprovalManagerOptions = {}): ApprovalHarness {
  const h = setupApprovals(options);
  harnesses.push(h);
  return h;
}
afterEach(async () => {
  for (const h of harnesses.splice(0)) await h.approvals.close();
});

/** A stream pair that claims to be a TTY (readline treats it like one). */
function fakeTty() {
  const input = Object.assign(new PassThrough(), { isTTY: true });
  const output = new PassThrough();
  let text = '';
  output.on('data', (chunk: Buffer) => {
    text += chunk.toString('utf8');
  });
  return { input, output, text: () => text };
}

async function until(check: () => boolean, what: string, attempts = 500): Promise<void> {
  for (let i = 0; i < attempts; i++) {
    if (check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('terminalChannel', () => {
  it('fails closed without a TTY: a typed error, and the request is rejected', async () => {
    const errors: unknown[] = [];
    const input = new PassThrough();
    const output = new PassThrough();
    const { engine, approvals, held } = setup({
      channels: [terminalChannel({ input, output, approver: 'alice' })],
      onError: (e) => {
        errors.push(e);
      },
    });
    const d = await engine.authorize(pay({ amount: '250.00' }));
    const view = await approvals.waitFor(d.approvalId!, { timeoutMs: 5_000 });
    expect(view).toMatchObject({
      status: 'rejected',
      resolution: { kind: 'channel_error', channel: 'terminal' },
    });
    expect(errors[0]).toMatchObject({ code: ApprovalErrorCode.NO_TTY });
    expect(String((errors[0] as Error).message)).toMatch(/not a TTY/);
    expect(await held()).toBe('0.000000');
    expect(output.read()).toBeNull(); // nothing was prompted
  });

  it('prompts with the request and records y with a reason as an approval', async () => {
    const tty = fakeTty();
    const { engine, approvals } = setup({
      channels: [terminalChannel({ input: tty.input, output: tty.output, approver: 'alice' })],
    });
    const d = await engine.authorize(pay({ amount: '250.00' }));
    await until(() => tty.text().includes('[y/n'), 'the prompt');
    tty.input.write('maybe\n');
    await until(() => tty.text().includes('Please answer y or n'), 're-ask');
    tty.input.write('y known vendor\n');
    const view = await approvals.waitFor(d.approvalId!, { timeoutMs: 5_000 });
    expect(view).toMatchObject({
      status: 'approved',
      votes: [{ approver: 'alice', approve: true, channel: 'terminal', reason: 'known vendor' }],
    });
  });

  it('n rejects', async () => {
    const tty = fakeTty();
    const { engine, approvals } = setup({
      channels: [terminalChannel({ input: tty.input, output: tty.output, approver: 'alice' })],
    });
    const d = await engine.authorize(pay({ amount: '250.00' }));
    await until(() => tty.text().includes('[y/n'), 'the prompt');
    tty.input.write('n\n');
    expect((await approvals.waitFor(d.approvalId!, { timeoutMs: 5_000 })).status).toBe('rejected');
  });

  it('describes agent, action, amount, recipient, reasons and context', () => {
    const text = describeRequest({
      id: 'apr_1',
      status: 'pending',
      agentId: 'bot',
      action: 'payment',
      amount: '12.50',
      currency: 'USDC',
      recipient: 'https://x.example',
      intentHash: 'h',
      createdAt: 0,
      expiresAt: 0,
      level: 'default',
      required: 1,
      votes: [],
      holdId: 'hold_1',
      params: {},
      metadata: {},
      reasons: [{ code: 'r', message: 'because', outcome: 'require_approval', source: 'rule' }],
      policies: [],
      context: { budgets: { remaining: '5' } },
    });
    expect(text).toContain('agent:     bot');
    expect(text).toContain('amount:    12.50 USDC');
    expect(text).toContain('recipient: https://x.example');
    expect(text).toContain('- r: because');
    expect(text).toContain('budgets: {"remaining":"5"}');
    expect(text).toContain('expires:   1970-01-01T00:00:00.000Z');
  });
});

// ─── A real pseudo-terminal ─────────────────────────────────────────────────────────────
// The child runs with a real TTY as stdin/stdout, made by Python's pty module or, where there
// is no python3, by util-linux `script`; what the test writes to their stdin is typed into
// that terminal.

const child = fileURLToPath(new URL('../__fixtures__/terminal-child.ts', import.meta.url));
const packageDir = fileURLToPath(new URL('../../..', import.meta.url));
const PTY = 'import pty, sys\nsys.exit(pty.spawn(sys.argv[1:]) >> 8)';
const has = (cmd: string, args: string[]) => spawnSync(cmd, args, { stdio: 'ignore' }).status === 0;
const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The command that runs `argv` in a pseudo-terminal on this machine. */
function ptyCommand(argv: string[]): [string, string[]] {
  if (has('python3', ['--version'])) return ['python3', ['-c', PTY, ...argv]];
  if (has('script', ['--version'])) return ['script', ['-qefc', argv.map(quote).join(' '), '/dev/null']];
  throw new Error('The pseudo-terminal test needs python3 or util-linux `script` on PATH');
}

function runInPty(timeoutMs: number) {
  const [cmd, args] = ptyCommand([process.execPath, '--import', 'tsx', child, String(timeoutMs)]);
  const proc = spawn(cmd, args, {
    cwd: packageDir,
    env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stdout.on('data', (c: Buffer) => {
    out += c.toString('utf8');
  });
  proc.stderr.on('data', (c: Buffer) => {
    err += c.toString('utf8');
  });
  const exited = new Promise<number | null>((resolve) => proc.on('close', (code) => resolve(code)));
  return {
    proc,
    exited,
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping terminal escape sequences
    text: () => out.replace(/\u001b\[[0-9;?]*[A-Za-z]/g, '').replace(/\r/g, ''),
    stderr: () => err,
  };
}

function result(text: string): { status: string; votes: unknown[]; resolution?: unknown } {
  const line = text.split('\n').find((l) => l.startsWith('RESULT '));
  if (!line) throw new Error(`no RESULT line in:\n${text}`);
  return JSON.parse(line.slice('RESULT '.length));
}

describe('terminalChannel in a pseudo-terminal', () => {
  it('shows the request and records "y" as an approval', { timeout: 40_000 }, async () => {
    const run = runInPty(15_000);
    try {
      // Starting node with tsx can take seconds on a loaded machine.
      await until(() => run.text().includes('[y/n'), 'the prompt', 2_000);
      const prompt = run.text();
      expect(prompt).toContain('agent:     research-bot');
      expect(prompt).toContain('action:    payment');
      expect(prompt).toContain('amount:    250.000000 USDC');
      expect(prompt).toContain('recipient: https://api.vendor.example/v1/report');
      expect(prompt).toContain('- vendor_review: New vendors need a human');
      expect(prompt).toMatch(
        /budgets: \[\{"budgetId":"day".*"held":"250\.000000","remaining":"750\.000000"\}\]/,
      );
      run.proc.stdin.write('y\n');
      expect(await run.exited).toBe(0);
      expect(result(run.text())).toMatchObject({
        status: 'approved',
        votes: [{ approver: 'alice', approve: true, channel: 'terminal' }],
      });
    } finally {
      run.proc.kill();
    }
  });

  it('with no answer before the timeout, the request is rejected (fails closed)', {
    timeout: 40_000,
  }, async () => {
    const run = runInPty(300);
    try {
      expect(await run.exited).toBe(0);
      const text = run.text();
      expect(text).toContain('[y/n');
      expect(result(text)).toMatchObject({
        status: 'rejected',
        votes: [],
        resolution: { kind: 'channel_error', by: 'system:channel', channel: 'terminal' },
      });
      expect(text).toMatch(/No answer at the terminal within 300 ms/);
    } finally {
      run.proc.kill();
    }
  });
});
