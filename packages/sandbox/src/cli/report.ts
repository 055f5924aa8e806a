import { Money } from '@bursar/core';
import { shortAmount } from '../runner/format.js';
import type { CurrencyTotals, LineOutcome, PaymentLine, RunReport, ScenarioResult } from '../runner/types.js';
import { LINE_OUTCOMES } from '../runner/types.js';
import { type Colors, stripAnsi } from './colors.js';

/** `USDC 2.85 · USD 165.00`, or `—` when empty. Amounts are printed as given (exact decimals). */
export function formatTotals(totals: CurrencyTotals): string {
  const entries = Object.entries(totals).filter(([currency, amount]) => {
    try {
      return !Money.parse(amount, currency).isZero();
    } catch {
      return true;
    }
  });
  if (entries.length === 0) return '—';
  return entries
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([currency, amount]) => `${shortAmount(amount)} ${currency}`)
    .join(' · ');
}

const LABEL: Record<LineOutcome, string> = {
  allowed: 'allowed',
  pending: 'pending',
  failed: 'failed',
  blocked: 'blocked',
};

function paint(c: Colors, outcome: LineOutcome, text: string): string {
  switch (outcome) {
    case 'allowed':
      return c.green(text);
    case 'pending':
      return c.yellow(text);
    case 'failed':
      return c.magenta(text);
    case 'blocked':
      return c.red(text);
  }
}

const pad = (s: string, n: number) => s + ' '.repeat(Math.max(0, n - stripAnsi(s).length));
const padStart = (s: string, n: number) => ' '.repeat(Math.max(0, n - stripAnsi(s).length)) + s;
const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

/**
 * The reason in few words: a budget's figures as the engine reported them (`7.15 of 10.00 USDC
 * left`), or the engine's message (who approved, why it was refused), shortened.
 */
export function describeReason(line: PaymentLine): string {
  const l = line.limit;
  if (l?.limit !== undefined) {
    const unit = l.currency ? ` ${l.currency}` : '';
    const fmt = (v: string | undefined) => (v === undefined ? '?' : l.currency ? shortAmount(v) : v);
    const name = l.id ? `${l.id}: ` : '';
    if (line.decision === 'deny') {
      const verb = l.currency ? 'spent' : 'used';
      return `${name}${fmt(l.spent)} ${verb} + ${fmt(l.held)} held, limit ${fmt(l.limit)}${unit}`;
    }
    return `${name}${fmt(l.remaining)} of ${fmt(l.limit)}${unit} left`;
  }
  return clip(line.reason, 72);
}

/** The recipient without `https://` (display only; the JSON report keeps it whole). */
function displayRecipient(line: PaymentLine): string {
  if (line.recipient === undefined) return line.action !== 'payment' ? `(${line.action})` : '—';
  return line.recipient.replace(/^https:\/\//, '');
}

/** One payment: amount, recipient, outcome, reason; what the rail did on a second, dim line. */
export function formatLine(line: PaymentLine, c: Colors): string {
  const what =
    line.amount !== undefined
      ? `${shortAmount(line.amount)} ${line.currency ?? ''}`.trim()
      : line.action === 'payment'
        ? '—'
        : line.action;
  const outcome = line.replayed ? 'replayed' : LABEL[line.outcome];
  const outcomeText = line.replayed ? c.cyan(pad(outcome, 8)) : paint(c, line.outcome, pad(outcome, 8));
  const reason = `${c.bold(line.reasonCode)} ${describeReason(line)}`;
  const main = [
    padStart(String(line.seq), 3),
    pad(clip(line.agentId, 14), 14),
    padStart(what, 13),
    pad(clip(displayRecipient(line), 32), 32),
    outcomeText,
    reason,
  ].join('  ');
  return line.rail ? `${main}\n${' '.repeat(36)}${c.dim(`↳ ${clip(line.rail, 120)}`)}` : main;
}

/** A scenario's block: heading, its lines, and the verdict. */
export function formatScenario(result: ScenarioResult, index: number, total: number, c: Colors): string {
  const out: string[] = [];
  out.push(`${c.bold(`${index + 1}/${total}  ${result.title}`)} ${c.dim(`(${result.id})`)}`);
  for (const line of result.lines) out.push(formatLine(line, c));
  if (result.lines.length === 0) out.push(c.dim('     no payment was decided'));
  for (const alert of result.alerts) {
    const sev = alert.severity === 'critical' ? c.red(alert.severity) : c.yellow(alert.severity);
    out.push(`     ${c.bold('alert')} ${sev} ${alert.kind}: ${clip(alert.message, 100)}`);
  }
  const provenance = result.facts.provenance as { ok?: boolean; records?: number } | undefined;
  const verdict = result.passed ? c.green('✔ as expected') : c.red('✘ not as expected');
  const counts = LINE_OUTCOMES.map((o) => `${result.counts[o]} ${o}`).join(', ');
  const chain = provenance
    ? `, provenance ${provenance.ok ? 'verified' : c.red('BROKEN')} (${provenance.records} records)`
    : '';
  out.push(`     ${verdict}  ${counts}; rails charged ${formatTotals(result.charged)}${chain}`);
  for (const failure of result.failures) out.push(`     ${c.red('✘')} ${failure}`);
  return out.join('\n');
}

/** The closing summary: counts and totals per outcome, alerts, what the ledgers really charged. */
export function formatSummary(report: RunReport, c: Colors): string {
  const passed = report.scenarios.filter((s) => s.passed).length;
  const alertKinds = new Map<string, number>();
  for (const s of report.scenarios)
    for (const a of s.alerts) alertKinds.set(a.kind, (alertKinds.get(a.kind) ?? 0) + 1);
  const rows = LINE_OUTCOMES.map((o) => {
    const label = paint(c, o, pad(o, 8));
    const what = o === 'allowed' ? 'captured' : o === 'pending' ? 'held' : 'requested';
    return `  ${label} ${padStart(String(report.counts[o]), 4)}   ${c.dim(what)} ${formatTotals(report.totals[o])}`;
  });
  const alerts =
    alertKinds.size === 0 ? 'none' : [...alertKinds].map(([kind, n]) => `${kind} ×${n}`).join(', ');
  const verdict =
    passed === report.scenarios.length
      ? c.green(`${passed}/${report.scenarios.length} scenarios behaved as expected`)
      : c.red(
          `${report.scenarios.length - passed} of ${report.scenarios.length} scenarios did not behave as expected`,
        );
  return [
    c.bold('Summary'),
    ...rows,
    `  ${pad('alerts', 8)} ${padStart(String(report.alerts), 4)}   ${alerts}`,
    `  the rails really charged: ${c.bold(formatTotals(report.charged))}${c.dim(' (net of refunds, read from their ledgers)')}`,
    `  ${verdict} ${c.dim(`(seed ${String(report.seed)})`)}`,
  ].join('\n');
}

/** The report as one JSON document (`--json`). */
export function toJson(report: RunReport): string {
  return JSON.stringify(report, null, 2);
}
