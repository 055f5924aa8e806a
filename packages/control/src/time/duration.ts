const UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/** `90m`, `1.5h`, `7d`, `250ms`: a number followed by ms, s, m, h, d or w (no unit: ms). */
export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/;

/**
 * Reads a duration written as text (`'90m'`, `'7d'`) or as milliseconds. Returns undefined
 * for anything else, or for a duration that is not a whole, positive number of milliseconds.
 */
export function parseDuration(value: string | number): number | undefined {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else {
    const m = DURATION_PATTERN.exec(value.trim());
    if (!m) return undefined;
    ms = Number(m[1]) * UNIT_MS[m[2] ?? 'ms']!;
  }
  return Number.isSafeInteger(ms) && ms > 0 ? ms : undefined;
}
