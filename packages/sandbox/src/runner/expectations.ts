import { Money } from '@bursar/core';
import type { CurrencyTotals, ScenarioExpectation, ScenarioOutcome } from './types.js';

const COUNTED = ['allowed', 'pending', 'failed', 'blocked'] as const;

/** Whether two totals maps hold the same amounts (exactly; a missing currency counts as 0). */
function sameTotals(expected: CurrencyTotals, actual: CurrencyTotals): string[] {
  const problems: string[] = [];
  const currencies = new Set([...Object.keys(expected), ...Object.keys(actual)].map((c) => c.toUpperCase()));
  const find = (map: CurrencyTotals, currency: string) =>
    Object.entries(map).find(([c]) => c.toUpperCase() === currency)?.[1] ?? '0';
  for (const currency of currencies) {
    const want = Money.parse(find(expected, currency), currency);
    const got = Money.parse(find(actual, currency), currency);
    if (!want.equals(got)) problems.push(`${currency}: expected ${want.format()}, got ${got.format()}`);
  }
  return problems;
}

/**
 * Compares a scenario's outcome with its expectation. Returns one message per expectation that
 * does not hold (empty when all hold). Three checks always run (the first two
 * unless the expectation turns them off): no double charge on any ledger, what Bursar captured
 * equals what the rails charged, and the provenance chain verifies.
 */
export async function checkExpectation(
  expect: ScenarioExpectation,
  outcome: ScenarioOutcome,
): Promise<string[]> {
  const failures: string[] = [];
  for (const key of COUNTED) {
    const want = expect[key];
    if (want !== undefined && outcome.counts[key] !== want) {
      failures.push(`expected ${want} ${key}, got ${outcome.counts[key]}`);
    }
  }
  if (expect.charged) {
    for (const p of sameTotals(expect.charged, outcome.charged)) failures.push(`charged by the rails: ${p}`);
  }
  for (const kind of expect.alerts ?? []) {
    if (!outcome.alerts.some((a) => a.kind === kind))
      failures.push(`expected a ${kind} alert; none was raised`);
  }
  for (const code of expect.reasons ?? []) {
    if (!outcome.lines.some((l) => l.reasonCode === code))
      failures.push(`expected a line with reason ${code}`);
  }
  if (expect.replayed !== undefined) {
    const replayed = outcome.lines.filter((l) => l.replayed).length;
    if (replayed !== expect.replayed) failures.push(`expected ${expect.replayed} replayed, got ${replayed}`);
  }
  const duplicates = expect.duplicateCharges ?? 0;
  if (outcome.duplicateCharges !== duplicates) {
    failures.push(`expected ${duplicates} double charges on the ledgers, got ${outcome.duplicateCharges}`);
  }
  if (expect.capturesMatchLedger !== false) {
    for (const p of sameTotals(outcome.grossCharged, outcome.captured)) {
      failures.push(`Bursar's captures differ from what the rails charged: ${p}`);
    }
  }
  const provenance = outcome.facts.provenance as
    | { ok?: boolean; brokenAt?: number; reason?: string }
    | undefined;
  if (provenance && provenance.ok === false) {
    failures.push(
      `the provenance chain does not verify: ${provenance.reason} at record ${provenance.brokenAt}`,
    );
  }
  if (expect.check) failures.push(...(await expect.check(outcome)));
  return failures;
}
