import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import type { TrustedCheckpoint } from '../chain/checkpoint.js';
import { toPublicKey } from '../chain/checkpoint.js';
import { type FileVerifyResult, verifyJsonlFile } from '../export/verify-file.js';

/** Exit codes of `bursar-audit`. */
export const ExitCode = {
  /** The file verified. */
  OK: 0,
  /** The file was tampered with (or is damaged). */
  TAMPERED: 1,
  /** Bad usage, or a file that cannot be read. */
  USAGE: 2,
} as const;

/** Where the CLI writes and what it knows about its terminal. */
export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
  env: Readonly<Record<string, string | undefined>>;
}

const USAGE = `Usage: bursar-audit verify <file> [--public-key <pem-file>] [--checkpoints <file>] [--json]

Verifies a Bursar audit export (or audit store file) offline.

  <file>                 JSONL written by exportJsonl() or JsonlFileAuditStore
  --public-key <file>    Ed25519 public key (PEM) to check checkpoint signatures with
  --checkpoints <file>   published checkpoints (JSON array or JSONL) the file must agree with;
                         without them, removing the newest records cannot be detected
  --json                 print the result as JSON
  -h, --help             show this help

Exit codes: 0 verified, 1 tampered or damaged, 2 usage error or unreadable file.
`;

class UsageError extends Error {}

/**
 * Runs `bursar-audit` with these arguments and returns the exit code. Pure apart from reading
 * the files named in `args`: output goes to `io`.
 */
export async function runCli(args: readonly string[], io: CliIo): Promise<number> {
  let json = args.includes('--json');
  try {
    const { values, positionals } = parseArgs({
      args: [...args],
      allowPositionals: true,
      strict: true,
      options: {
        'public-key': { type: 'string' },
        checkpoints: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    json = values.json === true;
    if (values.help) {
      io.stdout.write(USAGE);
      return ExitCode.OK;
    }
    const [command, file, ...extra] = positionals;
    if (command !== 'verify')
      throw new UsageError(command ? `unknown command "${command}"` : 'missing command');
    if (!file) throw new UsageError('missing <file>');
    if (extra.length > 0) throw new UsageError(`unexpected argument "${extra[0]}"`);

    const publicKey =
      values['public-key'] === undefined ? undefined : await readPublicKey(values['public-key']);
    const checkpoints =
      values.checkpoints === undefined ? undefined : await readCheckpoints(values.checkpoints);
    let result: FileVerifyResult;
    try {
      result = await verifyJsonlFile({
        path: file,
        ...(publicKey ? { publicKey } : {}),
        ...(checkpoints ? { checkpoints } : {}),
      });
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
    report(result, io, json, checkpoints !== undefined);
    return result.ok ? ExitCode.OK : ExitCode.TAMPERED;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    if (json) io.stdout.write(`${JSON.stringify({ ok: false, error: 'usage', message })}\n`);
    else io.stderr.write(`bursar-audit: ${message}\n\n${USAGE}`);
    return ExitCode.USAGE;
  }
}

async function readPublicKey(arg: string): Promise<string> {
  const pem = arg.startsWith('-----BEGIN') ? arg : await readText(arg, 'public key');
  try {
    toPublicKey(pem);
  } catch {
    throw new UsageError('--public-key is not an Ed25519 public key in PEM form');
  }
  return pem;
}

async function readCheckpoints(path: string): Promise<TrustedCheckpoint[]> {
  const text = (await readText(path, 'checkpoints')).trim();
  let list: unknown;
  try {
    list = text.startsWith('[')
      ? JSON.parse(text)
      : text
          .split('\n')
          .filter((l) => l.trim().length > 0)
          .map((l) => JSON.parse(l));
  } catch {
    throw new UsageError(`${path} is not a JSON array or JSONL of checkpoints`);
  }
  if (
    !Array.isArray(list) ||
    !list.every(
      (c) =>
        typeof c === 'object' &&
        c !== null &&
        Number.isSafeInteger((c as TrustedCheckpoint).seq) &&
        (c as TrustedCheckpoint).seq >= 1 &&
        typeof (c as TrustedCheckpoint).hash === 'string',
    )
  ) {
    throw new UsageError(`${path}: every checkpoint needs a positive integer "seq" and a "hash"`);
  }
  return list as TrustedCheckpoint[];
}

async function readText(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${what} file ${path}: ${(error as Error).message}`);
  }
}

function report(result: FileVerifyResult, io: CliIo, json: boolean, anchored: boolean): void {
  if (json) {
    io.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  const colour = io.stdout.isTTY === true && !io.env.NO_COLOR;
  const paint = (code: string, text: string) => (colour ? `\u001b[${code}m${text}\u001b[0m` : text);
  if (result.ok) {
    const sig =
      result.signatures === 'verified'
        ? 'signatures verified'
        : result.signatures === 'unchecked'
          ? 'signatures NOT checked: pass --public-key'
          : 'no checkpoints';
    const head = result.head ? `, head #${result.head.seq} ${result.head.hash}` : '';
    io.stdout.write(
      `${paint('32', 'OK')} ${result.file}: ${plural(result.records, 'record')}, ${plural(result.checkpoints, 'checkpoint')} (${sig})${head}\n`,
    );
    if (!anchored) {
      io.stdout.write(
        'Note: no published checkpoints given (--checkpoints); records removed from the end, or a whole rewritten file, cannot be detected.\n',
      );
    } else {
      io.stdout.write(`Agrees with ${plural(result.anchorsChecked, 'published checkpoint')}.\n`);
    }
    return;
  }
  io.stdout.write(
    `${paint('31', 'TAMPERED')} ${result.file}: line ${result.line} (record ${result.seq}): ${result.reason}: ${result.message}\n`,
  );
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
