import { userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import { BursarError, ErrorCode, toIssues, ValidationError } from '@bursar/core';
import { z } from 'zod';
import { ApprovalErrorCode } from '../codes.js';
import type { ApprovalChannel, ApproverView, ChannelContext } from '../types.js';

/** Options of {@link terminalChannel}. */
export interface TerminalChannelOptions {
  /** Where answers come from (default `process.stdin`). Must be a TTY. */
  input?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** Where the prompt goes (default `process.stdout`). */
  output?: NodeJS.WritableStream;
  /** Who answers at this terminal (default: the OS user name). */
  approver?: string;
  /** How long to wait for an answer (default 60 s); then the channel fails closed. */
  timeoutMs?: number;
  /** Channel name (default `terminal`). */
  name?: string;
}

const Options = z.strictObject({
  input: z
    .custom<NonNullable<TerminalChannelOptions['input']>>(
      (v) => typeof v === 'object' && v !== null && typeof (v as { on?: unknown }).on === 'function',
      'must be a readable stream',
    )
    .optional(),
  output: z
    .custom<NodeJS.WritableStream>(
      (v) => typeof v === 'object' && v !== null && typeof (v as { write?: unknown }).write === 'function',
      'must be a writable stream',
    )
    .optional(),
  approver: z.string().trim().min(1).max(256).optional(),
  timeoutMs: z.number().int().positive().max(86_400_000).optional(),
  name: z.string().trim().min(1).max(64).optional(),
});

const YES = /^\s*(y|yes)\b\s*(.*)$/i;
const NO = /^\s*(n|no)\b\s*(.*)$/i;

/**
 * An interactive prompt: shows the agent, action, amount, recipient, why approval is needed
 * and the approver context, and takes `y` or `n` (optionally followed by a reason:
 * `y known vendor`). Prompts are shown one at a time.
 *
 * Fails closed: when the input is not a TTY, `notify` rejects with `ERR_BURSAR_APPROVAL_NO_TTY`
 * without prompting; with no answer within `timeoutMs` it rejects with
 * `ERR_BURSAR_APPROVAL_TIMEOUT`. The manager treats both as a channel failure (by default the
 * request is rejected when every channel failed).
 *
 * @example
 * const approvals = new ApprovalManager({ channels: [terminalChannel({ approver: 'alice', timeoutMs: 120_000 })] });
 */
export function terminalChannel(options: TerminalChannelOptions = {}): ApprovalChannel {
  const parsed = Options.safeParse(options ?? {});
  if (!parsed.success) {
    const issues = toIssues(parsed.error.issues);
    throw new ValidationError(
      ErrorCode.INVALID_OPTIONS,
      `Invalid terminalChannel options: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`,
      issues,
    );
  }
  const o = parsed.data;
  const name = o.name ?? 'terminal';
  const timeoutMs = o.timeoutMs ?? 60_000;
  const approver = o.approver ?? osUser();
  // One prompt at a time: a terminal has one keyboard.
  let queue: Promise<unknown> = Promise.resolve();
  return {
    name,
    notify(request, context) {
      const input = o.input ?? process.stdin;
      const output = o.output ?? process.stdout;
      if ((input as { isTTY?: boolean }).isTTY !== true) {
        return Promise.reject(
          new BursarError(
            ApprovalErrorCode.NO_TTY,
            `The terminal approval channel needs an interactive terminal, but its input is not a TTY; request ${request.id} cannot be answered here (failing closed)`,
            { details: { approvalId: request.id } },
          ),
        );
      }
      const run = queue.then(() => prompt(request, context, { input, output, approver, timeoutMs }));
      queue = run.catch(() => undefined);
      return run;
    },
  };
}

async function prompt(
  request: ApproverView,
  context: ChannelContext,
  io: {
    input: NodeJS.ReadableStream;
    output: NodeJS.WritableStream;
    approver: string;
    timeoutMs: number;
  },
): Promise<void> {
  if (context.signal.aborted) return;
  io.output.write(describeRequest(request));
  const rl = createInterface({ input: io.input, output: io.output, terminal: true });
  let answer: { approve: boolean; reason?: string } | undefined;
  try {
    answer = await new Promise<{ approve: boolean; reason?: string } | undefined>((resolve, reject) => {
      const timer = setTimeout(() => {
        finish();
        io.output.write(`\nNo answer within ${io.timeoutMs} ms: request ${request.id} fails closed.\n`);
        reject(
          new BursarError(
            ApprovalErrorCode.TIMEOUT,
            `No answer at the terminal within ${io.timeoutMs} ms for request ${request.id} (failing closed)`,
            { details: { approvalId: request.id } },
          ),
        );
      }, io.timeoutMs);
      const onAbort = () => {
        finish();
        resolve(undefined);
      };
      const onClose = () => {
        finish();
        reject(
          new BursarError(
            ApprovalErrorCode.NO_TTY,
            `The terminal input closed before request ${request.id} was answered`,
            { details: { approvalId: request.id } },
          ),
        );
      };
      const finish = () => {
        clearTimeout(timer);
        context.signal.removeEventListener('abort', onAbort);
        rl.off('close', onClose);
      };
      context.signal.addEventListener('abort', onAbort, { once: true });
      rl.on('close', onClose);
      const ask = () => {
        rl.question(`Approve ${request.id}? [y/n, optionally followed by a reason] `, (line) => {
          const yes = YES.exec(line);
          const no = yes ? null : NO.exec(line);
          const m = yes ?? no;
          if (!m) {
            io.output.write('Please answer y or n.\n');
            ask();
            return;
          }
          finish();
          const reason = m[2]!.trim();
          resolve({ approve: yes !== null, ...(reason.length > 0 ? { reason } : {}) });
        });
      };
      ask();
    });
  } finally {
    rl.close();
  }
  if (answer === undefined) {
    io.output.write(`\nRequest ${request.id} was resolved elsewhere.\n`);
    return;
  }
  const view = await context.vote({
    approver: io.approver,
    approve: answer.approve,
    ...(answer.reason !== undefined ? { reason: answer.reason } : {}),
  });
  io.output.write(
    `Recorded: ${answer.approve ? 'approved' : 'rejected'} by ${io.approver}; request is ${view.status}.\n`,
  );
}

/** The text an approver reads before answering. */
export function describeRequest(request: ApproverView): string {
  const lines = [
    '',
    `Bursar approval request ${request.id}`,
    `  agent:     ${request.agentId}`,
    `  action:    ${request.action}`,
    `  amount:    ${request.amount !== undefined ? `${request.amount} ${request.currency ?? ''}`.trim() : '(none)'}`,
    `  recipient: ${request.recipient ?? '(none)'}`,
  ];
  if (request.purpose !== undefined)
    lines.push(`  purpose:   ${JSON.stringify(request.purpose)} (stated by the agent)`);
  if (Object.keys(request.params).length > 0) lines.push(`  params:    ${JSON.stringify(request.params)}`);
  lines.push(
    `  level:     ${request.level} (${request.required} approval${request.required === 1 ? '' : 's'} needed, ${request.votes.filter((v) => v.approve && v.level === request.level).length} so far)`,
    `  expires:   ${new Date(request.expiresAt).toISOString()}`,
    '  reason:',
  );
  for (const r of request.reasons) lines.push(`    - ${r.code}: ${r.message}`);
  if (request.reasons.length === 0) lines.push('    - (none given)');
  const context = Object.entries(request.context);
  lines.push('  context:');
  if (context.length === 0) lines.push('    (none)');
  for (const [key, value] of context) lines.push(`    ${key}: ${JSON.stringify(value)}`);
  return `${lines.join('\n')}\n`;
}

function osUser(): string {
  try {
    return userInfo().username || 'terminal';
  } catch {
    return 'terminal';
  }
}
