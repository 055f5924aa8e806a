/**
 * Globs: `*` matches any run of characters (including none, including `/`), `?` exactly one.
 * Every other character is literal. A glob without wildcards is an exact value.
 */

const SPECIALS = /[.+^${}()|[\]\\]/g;

/** True when the text contains a wildcard. */
export function isGlob(text: string): boolean {
  return text.includes('*') || text.includes('?');
}

/** An anchored RegExp for a glob. */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(SPECIALS, '\\$&').replace(/\*+/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${body}$`, 's');
}

/** The literal text before the first wildcard. */
export function literalPrefix(glob: string): string {
  const i = glob.search(/[*?]/);
  return i < 0 ? glob : glob.slice(0, i);
}

/** The literal text after the last wildcard. */
export function literalSuffix(glob: string): string {
  for (let i = glob.length - 1; i >= 0; i--) {
    const c = glob[i];
    if (c === '*' || c === '?') return glob.slice(i + 1);
  }
  return glob;
}

/**
 * A set of globs compiled once: exact values in a `Set`, the rest as RegExps tested only
 * after a cheap literal prefix/suffix check.
 */
export class GlobSet {
  readonly #exact: Set<string>;
  readonly #globs: ReadonlyArray<{ prefix: string; suffix: string; re: RegExp }>;

  constructor(patterns: readonly string[]) {
    this.#exact = new Set(patterns.filter((p) => !isGlob(p)));
    this.#globs = patterns
      .filter(isGlob)
      .map((p) => ({ prefix: literalPrefix(p), suffix: literalSuffix(p), re: globToRegExp(p) }));
  }

  /** True when any pattern matches the whole of `value`. */
  matches(value: string): boolean {
    if (this.#exact.has(value)) return true;
    for (const g of this.#globs) {
      if (value.startsWith(g.prefix) && value.endsWith(g.suffix) && g.re.test(value)) return true;
    }
    return false;
  }
}

const cache = new Map<string, GlobSet>();

/** A compiled single glob, cached (kill-switch targets change rarely; the cache is bounded). */
export function cachedGlob(pattern: string): GlobSet {
  let g = cache.get(pattern);
  if (!g) {
    if (cache.size >= 1024) cache.clear();
    g = new GlobSet([pattern]);
    cache.set(pattern, g);
  }
  return g;
}
