import { readFileSync } from 'node:fs';
import { Policy, type PolicyInput, readPolicyFile } from '@bursar/control';
import { BursarError } from '@bursar/core';
import { runScenarios } from '../runner/run-scenarios.js';
import type { RunReport } from '../runner/types.js';
import { SCENARIOS } from '../scenarios/index.js';
import { HELP, parseArgs, UsageError } from './args.js';
import { makeColors, shouldColor } from './colors.js';
import { Progress, type ProgressStream } from './progress.js';
import { formatScenario, formatSummary, toJson } from './report.js';

/** Where the CLI writes and what it knows of its terminal. */
export interface CliIo {
  stdout: ProgressStream;
  stderr: ProgressStream;
  env: Record<string, string | undefined>;
  /** Whether stdout is a terminal (colour) and stderr is one (progress). */
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
}

/** The package version, read from the package.json next to the build (or the source). */
export function packageVersion(): string {
  for (const rel of ['../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(readFileSync(new URL(rel, import.meta.url), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (pkg.name === '@bursar/sandbox' && pkg.version) return pkg.version;
    } catch {
      // not here
    }
  }
  return 'unknown';
}

async function loadPolicy(path: string): Promise<PolicyInput> {
  const data = await readPolicyFile(path);
  const parsed = Policy.safeParse(data);
  if (!parsed.success) {
    const issues = parsed.error.issues
      .map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`)
      .join('\n');
    throw new UsageError(`The policy in ${path} is not valid:\n${issues}`);
  }
  return data as PolicyInput;
}

/**
 * Runs `bursar-demo` with `argv` (without node and the script). Returns the exit code: 0 when
 * every scenario behaved as expected, 1 when one did not, 2 on a usage error.
 */
export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let args: ReturnType<typeof parseArgs>;
  try {
    args = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.stderr.write(`bursar-demo: ${error.message}\n\n${HELP}`);
    return 2;
  }
  if (args.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (args.version) {
    io.stdout.write(`${packageVersion()}\n`);
    return 0;
  }
  const c = makeColors(!args.json && shouldColor(args.color, io.env, io.stdoutIsTTY));
  if (args.list) {
    for (const s of SCENARIOS) io.stdout.write(`${c.bold(s.id.padEnd(22))} ${s.summary}\n`);
    return 0;
  }
  let policy: PolicyInput | undefined;
  try {
    policy = args.policy ? await loadPolicy(args.policy) : undefined;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    io.stderr.write(`bursar-demo: ${message}\n`);
    return 2;
  }
  const progress = new Progress(io.stderr, io.stderrIsTTY && !args.json);
  let report: RunReport;
  try {
    if (!args.json) {
      const chosen = args.scenarios.length > 0 ? args.scenarios.length : SCENARIOS.length;
      const against = policy ? ` against ${args.policy}` : '';
      io.stdout.write(
        `${c.bold('Bursar demo')} ${c.dim(`· ${chosen} scenario${chosen === 1 ? '' : 's'} on the sandbox x402, ACP and AP2 rails · seed ${String(args.seed)}${against}`)}\n` +
          `${c.dim('Every line is the policy engine\'s real decision; "rails charged" is read from the mock rails\' own ledgers.')}\n\n`,
      );
    }
    report = await runScenarios({
      scenarios: SCENARIOS,
      seed: args.seed,
      ...(args.scenarios.length > 0 ? { only: args.scenarios } : {}),
      ...(policy ? { policy } : {}),
      onStart: (s, i, total) => progress.update(i + 1, total, s.title),
      onResult: (result, i, total) => {
        progress.clear();
        if (!args.json) io.stdout.write(`${formatScenario(result, i, total, c)}\n\n`);
      },
    });
  } catch (error) {
    progress.clear();
    if (error instanceof BursarError) {
      io.stderr.write(`bursar-demo: ${error.message}\n`);
      return 2;
    }
    throw error;
  } finally {
    progress.clear();
  }
  io.stdout.write(args.json ? `${toJson(report)}\n` : `${formatSummary(report, c)}\n`);
  return report.passed ? 0 : 1;
}
