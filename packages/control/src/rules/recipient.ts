import { globToRegExp, isGlob, literalPrefix, literalSuffix } from './glob.js';

const URL_LIKE = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?#]*)(.*)$/s;
const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const EVM_PATTERN = /^0x[0-9a-fA-F*?]*$/;
const HOSTNAME = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\.?(:\d+)?$/;

/**
 * The form recipients are compared in: a URL's scheme and host are lower-cased (they are
 * case-insensitive; the path is not), an EVM address is lower-cased (checksum casing is only
 * a hint). Anything else, such as a Solana address, is compared exactly as written.
 */
export function normalizeRecipient(recipient: string): string {
  const m = URL_LIKE.exec(recipient);
  if (m) return (m[1]! + m[2]!).toLowerCase() + m[3]!;
  if (EVM_ADDRESS.test(recipient)) return recipient.toLowerCase();
  return recipient;
}

/** Normalizes a recipient pattern the way {@link normalizeRecipient} normalizes values. */
export function normalizeRecipientPattern(pattern: string): string {
  if (EVM_PATTERN.test(pattern)) return pattern.toLowerCase();
  return normalizeRecipient(pattern);
}

/** The host of a URL recipient, or of a bare host name; undefined for anything else. */
export function recipientHost(normalized: string): string | undefined {
  const m = URL_LIKE.exec(normalized);
  let authority: string;
  if (m) {
    authority = m[2]!;
    const at = authority.lastIndexOf('@');
    if (at >= 0) authority = authority.slice(at + 1);
  } else if (HOSTNAME.test(normalized)) {
    authority = normalized.toLowerCase();
  } else {
    return undefined;
  }
  if (authority.startsWith('[')) {
    const end = authority.indexOf(']');
    return end > 0 ? authority.slice(0, end + 1) : undefined;
  }
  const host = authority.replace(/:\d*$/, '').replace(/\.$/, '');
  return host.length > 0 ? host : undefined;
}

/** A domain as domain conditions compare it: lower case, without a leading `*.` or `.`. */
export function normalizeDomain(domain: string): string {
  return domain
    .trim()
    .toLowerCase()
    .replace(/^\*?\./, '')
    .replace(/\.$/, '');
}

interface GlobEntry {
  id: number;
  suffix: string;
  re: RegExp;
}

interface TrieNode {
  children: Map<string, { label: string; node: TrieNode }> | undefined;
  entries: GlobEntry[];
}

const newNode = (): TrieNode => ({ children: undefined, entries: [] });
const NO_HITS = new Uint8Array(0);

/** What one recipient condition lists. Every list is optional; any entry matching is a hit. */
export interface RecipientPatterns {
  exact?: readonly string[];
  glob?: readonly string[];
  domain?: readonly string[];
}

/**
 * Every recipient condition of a policy, indexed once at load so that matching a recipient
 * costs about its length plus the globs that could match, not one test per rule:
 * exact values in a `Map`, domains by walking the host's parent domains, globs in a radix
 * trie keyed by their literal prefix (then checked by suffix and RegExp).
 */
export class RecipientIndex {
  readonly #exact = new Map<string, number[]>();
  readonly #domains = new Map<string, number[]>();
  /** URL globs whose host ends in a literal domain, keyed by that domain. */
  readonly #hostGlobs = new Map<string, GlobEntry[]>();
  readonly #root: TrieNode = newNode();
  #size = 0;
  #byHost = false;

  /** Number of conditions added. */
  get size(): number {
    return this.#size;
  }

  /** Adds one condition; returns its id (an index into the array {@link match} returns). */
  add(patterns: RecipientPatterns): number {
    const id = this.#size++;
    for (const raw of patterns.exact ?? []) push(this.#exact, normalizeRecipient(raw), id);
    for (const raw of patterns.glob ?? []) {
      const p = normalizeRecipientPattern(raw);
      if (isGlob(p)) {
        const { re, host } = compileRecipientGlob(p);
        const entry = { id, suffix: literalSuffix(p), re };
        if (host !== undefined) {
          this.#byHost = true;
          const list = this.#hostGlobs.get(host);
          if (list) list.push(entry);
          else this.#hostGlobs.set(host, [entry]);
        } else {
          this.#insert(literalPrefix(p), entry);
        }
      } else {
        push(this.#exact, p, id);
      }
    }
    for (const raw of patterns.domain ?? []) {
      this.#byHost = true;
      push(this.#domains, normalizeDomain(raw), id);
    }
    return id;
  }

  /**
   * Which conditions match the normalized recipient: `hits[id] === 1`. When none does, the
   * answer is a shared empty array (every index reads as undefined), so a miss allocates nothing.
   */
  match(normalized: string, host: () => string | undefined): Uint8Array {
    let hits = NO_HITS;
    const exact = this.#exact.get(normalized);
    if (exact) {
      hits = new Uint8Array(this.#size);
      for (const id of exact) hits[id] = 1;
    }
    if (this.#byHost) {
      // Walk the host and its parent domains: a.b.example, b.example, example.
      let h = host();
      while (h) {
        const ids = this.#domains.get(h);
        if (ids) {
          if (hits === NO_HITS) hits = new Uint8Array(this.#size);
          for (const id of ids) hits[id] = 1;
        }
        const globs = this.#hostGlobs.get(h);
        if (globs) {
          for (const e of globs) {
            if (hits[e.id] !== 1 && e.re.test(normalized)) {
              if (hits === NO_HITS) hits = new Uint8Array(this.#size);
              hits[e.id] = 1;
            }
          }
        }
        const dot = h.indexOf('.');
        h = dot < 0 ? undefined : h.slice(dot + 1);
      }
    }
    let node: TrieNode | undefined = this.#root;
    let i = 0;
    while (node) {
      for (const e of node.entries) {
        if (hits[e.id] !== 1 && normalized.endsWith(e.suffix) && e.re.test(normalized)) {
          if (hits === NO_HITS) hits = new Uint8Array(this.#size);
          hits[e.id] = 1;
        }
      }
      if (i >= normalized.length || !node.children) break;
      const edge = node.children.get(normalized[i]!);
      if (!edge || !normalized.startsWith(edge.label, i)) break;
      i += edge.label.length;
      node = edge.node;
    }
    return hits;
  }

  #insert(prefix: string, entry: GlobEntry): void {
    let node = this.#root;
    let i = 0;
    while (i < prefix.length) {
      const c = prefix[i]!;
      node.children ??= new Map();
      const edge = node.children.get(c);
      if (!edge) {
        const leaf = newNode();
        node.children.set(c, { label: prefix.slice(i), node: leaf });
        node = leaf;
        i = prefix.length;
        break;
      }
      let j = 0;
      while (j < edge.label.length && i + j < prefix.length && edge.label[j] === prefix[i + j]) j++;
      if (j < edge.label.length) {
        const mid = newNode();
        mid.children = new Map([[edge.label[j]!, { label: edge.label.slice(j), node: edge.node }]]);
        edge.label = edge.label.slice(0, j);
        edge.node = mid;
      }
      node = edge.node;
      i += j;
    }
    node.entries.push(entry);
  }
}

const URL_GLOB = /^([a-z][a-z0-9+.-]*:\/\/)([^/?#@*]*@)?([^/?#@]*)([/?#].*)$/s;

/**
 * Compiles a recipient glob. In a URL pattern with a path (`https://*.example.com/*`), a
 * wildcard in the host part matches within the host only (never `/`, `?`, `#` or `@`), so
 * `https://*.example.com/*` cannot be matched by `https://evil.test/.example.com/`. Such a
 * pattern also yields the literal domain its host must end in (`example.com`; the host
 * itself when it has no wildcard), by which the index finds it. Other patterns are plain
 * globs.
 */
export function compileRecipientGlob(glob: string): { re: RegExp; host?: string } {
  const m = URL_GLOB.exec(glob);
  if (!m) return { re: globToRegExp(glob) };
  const [, scheme, userinfo = '', authority, rest] = m as unknown as [
    string,
    string,
    string | undefined,
    string,
    string,
  ];
  const hostPart = authority
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*+|\?/g, (w) => (w === '?' ? '[^/?#@]' : '[^/?#@]*'));
  const tail = globToRegExp(rest).source.slice(1, -1);
  const re = new RegExp(`^${escapeRegExp(scheme + userinfo)}${hostPart}${tail}$`, 's');
  const bare = authority.replace(/:[\d*?]*$/, '');
  const star = Math.max(bare.lastIndexOf('*'), bare.lastIndexOf('?'));
  if (star < 0) return bare.length > 0 ? { re, host: bare } : { re };
  const after = bare.slice(star + 1);
  return after.startsWith('.') && after.length > 1 ? { re, host: after.slice(1) } : { re };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+^${}()|[\]\\*?]/g, '\\$&');
}

function push(map: Map<string, number[]>, key: string, id: number): void {
  const list = map.get(key);
  if (!list) map.set(key, [id]);
  else if (!list.includes(id)) list.push(id);
}
