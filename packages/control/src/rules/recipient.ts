import { globToRegExp, isGlob, literalPrefix, literalSuffix } from './glob.js';

const SCHEME = /^([a-zA-Z][a-zA-Z0-9+.-]*):/;
const URL_LIKE = /^([a-zA-Z][a-zA-Z0-9+.-]*:\/\/)([^/?#]*)(.*)$/s;
/** A URL pattern: scheme, authority (up to `/` or `#`; `?` there is a wildcard), the rest. */
const PATTERN_URL = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/#]*)(.*)$/s;
const EVM_ADDRESS = /^0x[0-9a-fA-F]{40}$/;
const EVM_PATTERN = /^0x[0-9a-fA-F*?]*$/;
const HOSTNAME = /^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+\.?(:\d+)?$/;
/**
 * Schemes a WHATWG URL parser (fetch, an HTTP client) normalises: case-insensitive host,
 * default port, `\` read as `/`, `https:host` read as `https://host`.
 */
const SPECIAL_SCHEMES = new Set(['http', 'https', 'ws', 'wss', 'ftp']);
const DEFAULT_PORTS: Readonly<Record<string, string>> = {
  http: '80',
  https: '443',
  ws: '80',
  wss: '443',
  ftp: '21',
};

/** A recipient in comparison form, and whether it named a user (`user:password@host`), which that form leaves out. */
export interface RecipientForm {
  value: string;
  userinfo: boolean;
}

/**
 * The form recipients are compared in. A URL is canonicalised the way a WHATWG URL parser
 * reads it: scheme and host lower-cased, the default port dropped, a trailing dot of the host
 * dropped, `..` segments resolved, and the user part (`user:password@`) left out (reported in
 * `userinfo`), so that one address cannot be spelled past a rule. The path keeps its case. An
 * EVM address is lower-cased (checksum casing is only a hint). Anything else, such as a Solana
 * address, is compared exactly as written.
 */
export function canonicalRecipient(recipient: string): RecipientForm {
  const scheme = SCHEME.exec(recipient);
  if (
    scheme &&
    (SPECIAL_SCHEMES.has(scheme[1]!.toLowerCase()) || recipient.startsWith('//', scheme[0].length))
  ) {
    const url = parseUrl(recipient);
    if (url) return fromUrl(url);
    const m = URL_LIKE.exec(recipient);
    if (m) {
      // Not a URL a parser accepts: still compare scheme and host without case or user part.
      const at = m[2]!.lastIndexOf('@');
      const authority = m[2]!
        .slice(at + 1)
        .toLowerCase()
        .replace(/\.+(?=(:\d*)?$)/, '');
      return { value: m[1]!.toLowerCase() + authority + m[3]!, userinfo: at >= 0 };
    }
  }
  if (EVM_ADDRESS.test(recipient)) return { value: recipient.toLowerCase(), userinfo: false };
  return { value: recipient, userinfo: false };
}

/** {@link canonicalRecipient}'s value. */
export function normalizeRecipient(recipient: string): string {
  return canonicalRecipient(recipient).value;
}

/** A recipient pattern in comparison form. */
export interface RecipientPatternForm {
  value: string;
  /** The pattern named a user (`user@host`); such a pattern is refused in policies. */
  userinfo: boolean;
  /** A URL pattern with nothing after its host: it matches any path on that host. */
  pathless: boolean;
  /** A URL pattern that names the scheme's default port (`:443`): only that port matches. */
  defaultPort: boolean;
}

/**
 * Normalises a recipient pattern the way {@link canonicalRecipient} normalises values: in a
 * URL pattern scheme and host are lower-cased, a trailing dot of the host and a default port
 * are dropped, and a user part is left out (reported). A pattern without wildcards is
 * canonicalised exactly like a value. The path of a pattern with wildcards is kept as written.
 */
export function canonicalRecipientPattern(pattern: string): RecipientPatternForm {
  const plain = { userinfo: false, pathless: false, defaultPort: false };
  if (EVM_PATTERN.test(pattern)) return { value: pattern.toLowerCase(), ...plain };
  let text = pattern;
  const scheme = SCHEME.exec(text);
  if (scheme && SPECIAL_SCHEMES.has(scheme[1]!.toLowerCase()) && !text.startsWith('//', scheme[0].length)) {
    text = `${scheme[0]}//${text.slice(scheme[0].length)}`; // `https:host/x` is `https://host/x`
  }
  const m = PATTERN_URL.exec(text);
  if (!m) return { value: pattern, ...plain };
  const name = m[1]!.toLowerCase();
  let authority = m[2]!;
  const rest = m[3]!;
  const at = authority.lastIndexOf('@');
  const userinfo = at >= 0;
  if (userinfo) authority = authority.slice(at + 1);
  let [host, port] = splitPort(authority);
  host = host.toLowerCase().replace(/\.+$/, '');
  const defaultPort = port !== '' && port === DEFAULT_PORTS[name];
  if (defaultPort) port = '';
  if (!isGlob(host) && /\P{ASCII}/u.test(host)) host = parseUrl(`${name}://${host}/`)?.hostname ?? host;
  const origin = `${name}://${host}${port === '' ? '' : `:${port}`}`;
  if (rest === '') return { value: origin, userinfo, pathless: true, defaultPort };
  if (!isGlob(origin + rest))
    return { value: canonicalRecipient(origin + rest).value, userinfo, pathless: false, defaultPort };
  return { value: origin + rest, userinfo, pathless: false, defaultPort };
}

/** Normalises a recipient pattern (see {@link canonicalRecipientPattern}). */
export function normalizeRecipientPattern(pattern: string): string {
  return canonicalRecipientPattern(pattern).value;
}

function parseUrl(text: string): URL | undefined {
  try {
    return new URL(text);
  } catch {
    return undefined;
  }
}

function fromUrl(url: URL): RecipientForm {
  const scheme = url.protocol.slice(0, -1);
  const host = url.hostname.toLowerCase().replace(/\.+$/, '');
  const port = url.port !== '' && url.port !== DEFAULT_PORTS[scheme] ? `:${url.port}` : '';
  return {
    value: `${url.protocol}//${host}${port}${url.pathname}${url.search}${url.hash}`,
    userinfo: url.username !== '' || url.password !== '',
  };
}

/** `[host, port]` of an authority (IPv6 literals keep their brackets). */
function splitPort(authority: string): [string, string] {
  const close = authority.startsWith('[') ? authority.indexOf(']') : -1;
  const colon = authority.lastIndexOf(':');
  if (colon < 0 || colon < close) return [authority, ''];
  return [authority.slice(0, colon), authority.slice(colon + 1)];
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
  /** Literal text the recipient must end with ('' when none can be told). */
  suffix: string;
  re: RegExp;
}

interface TrieNode {
  children: Map<string, { label: string; node: TrieNode }> | undefined;
  entries: GlobEntry[];
}

const newNode = (): TrieNode => ({ children: undefined, entries: [] });
const NO_HITS = new Uint8Array(0);
const MEMO_SIZE = 4096;

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
  /**
   * Answers of {@link match} by recipient: they depend on nothing else, and agents pay the
   * same few recipients, so a repeat costs one lookup instead of the host and trie walks.
   * Bounded; emptied when a condition is added.
   */
  readonly #memo = new Map<string, Uint8Array>();
  #size = 0;
  #byHost = false;

  /** Number of conditions added. */
  get size(): number {
    return this.#size;
  }

  /**
   * Adds one condition; returns its id (an index into the array {@link match} returns).
   * `onIssue` is told about entries a policy may not contain (a user part such as
   * `user@host`); without it such a part is ignored, so the entry matches its host.
   */
  add(patterns: RecipientPatterns, onIssue?: (message: string) => void): number {
    this.#memo.clear();
    const id = this.#size++;
    const userinfo = (raw: string) =>
      onIssue?.(`"${raw}" names a user (user@host); recipients are compared without one, so leave it out`);
    for (const raw of patterns.exact ?? []) {
      const form = canonicalRecipient(raw);
      if (form.userinfo) userinfo(raw);
      push(this.#exact, form.value, id);
    }
    for (const raw of patterns.glob ?? []) {
      const form = canonicalRecipientPattern(raw);
      if (form.userinfo) userinfo(raw);
      const p = form.value;
      if (isGlob(p) || form.pathless) {
        const { re, host, suffix } = compileRecipientGlob(p, form);
        const entry = { id, suffix, re };
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
   * answer is a shared empty array (every index reads as undefined), so a miss allocates
   * nothing. Answers are shared between calls: read them, never write to them. `host` is
   * the recipient's host (a function of the recipient, so answers can be remembered by it).
   */
  match(normalized: string, host: () => string | undefined): Uint8Array {
    let hits = this.#memo.get(normalized);
    if (hits === undefined) {
      hits = this.#match(normalized, host);
      if (this.#memo.size >= MEMO_SIZE) this.#memo.clear();
      this.#memo.set(normalized, hits);
    }
    return hits;
  }

  #match(normalized: string, host: () => string | undefined): Uint8Array {
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

const URL_GLOB = /^([a-z][a-z0-9+.-]*:\/\/)([^/#]*)([/#].*)?$/s;

/**
 * Compiles a (normalized) recipient glob. In a URL pattern a wildcard in the host matches
 * within the host name only (never `/`, `?`, `#`, `@` or `:`), so `https://*.example.com/*`
 * cannot be matched by `https://evil.test/.example.com/`. A URL pattern with nothing after
 * its host (`https://*.example.com`) matches any path, query or fragment on that host. A
 * pattern that names no port matches any port of the host; one that names a port (or the
 * default port, `pathless`/`defaultPort` of its form) only that one. Such a pattern also
 * yields the literal domain its host must end in (`example.com`; the host itself when it has
 * no wildcard), by which the index finds it. Other patterns are plain globs.
 */
export function compileRecipientGlob(
  glob: string,
  form: Pick<RecipientPatternForm, 'defaultPort'> = { defaultPort: false },
): { re: RegExp; host?: string; suffix: string } {
  const m = URL_GLOB.exec(glob);
  if (!m) return { re: globToRegExp(glob), suffix: literalSuffix(glob) };
  const [, scheme, authority, rest] = m as unknown as [string, string, string, string | undefined];
  const [bare, port] = splitPort(authority);
  const hostPart = bare
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*+|\?/g, (w) => (w === '?' ? '[^/?#@:]' : '[^/?#@:]*'));
  const portPart =
    port === '*'
      ? '(?::[0-9]+)?'
      : port !== ''
        ? `:${port.replace(/[^0-9*?]/g, '').replace(/\*+|\?/g, (w) => (w === '?' ? '[0-9]' : '[0-9]*'))}`
        : form.defaultPort
          ? ''
          : '(?::[0-9]+)?';
  const tail = rest === undefined ? '(?:[/?#].*)?' : globToRegExp(rest).source.slice(1, -1);
  const re = new RegExp(`^${escapeRegExp(scheme)}${hostPart}${portPart}${tail}$`, 's');
  // A path-less pattern has no literal ending; for the others, the pattern's own.
  const suffix = rest === undefined ? '' : literalSuffix(glob);
  const star = Math.max(bare.lastIndexOf('*'), bare.lastIndexOf('?'));
  if (star < 0) return bare.length > 0 ? { re, host: bare, suffix } : { re, suffix };
  const after = bare.slice(star + 1);
  return after.startsWith('.') && after.length > 1 ? { re, host: after.slice(1), suffix } : { re, suffix };
}

function escapeRegExp(text: string): string {
  return text.replace(/[.+^${}()|[\]\\*?]/g, '\\$&');
}

function push(map: Map<string, number[]>, key: string, id: number): void {
  const list = map.get(key);
  if (!list) map.set(key, [id]);
  else if (!list.includes(id)) list.push(id);
}

const targets = new Map<string, RecipientIndex>();

/**
 * Whether one recipient glob (a kill-switch target) matches a normalized recipient, with the
 * same canonical forms and host rules as policy conditions. Compiled once per target (the
 * cache is bounded: targets change rarely).
 */
export function recipientTargetMatches(
  target: string,
  normalized: string,
  host: () => string | undefined,
): boolean {
  let index = targets.get(target);
  if (!index) {
    index = new RecipientIndex();
    index.add({ glob: [target] });
    if (targets.size >= 1024) targets.clear();
    targets.set(target, index);
  }
  return index.match(normalized, host)[0] === 1;
}
