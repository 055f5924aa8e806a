import { GlobSet } from './glob.js';

/** A policy's named agent groups, each a list of agent-id globs, compiled once. */
export class AgentGroups {
  readonly #groups: ReadonlyArray<readonly [string, GlobSet]>;
  readonly #cache = new Map<string, readonly string[]>();

  constructor(groups: Readonly<Record<string, readonly string[]>> | undefined) {
    this.#groups = Object.entries(groups ?? {}).map(([name, globs]) => [name, new GlobSet(globs)] as const);
  }

  /** Names of the groups the agent belongs to (memoized per agent, bounded). */
  of(agentId: string): readonly string[] {
    if (this.#groups.length === 0) return [];
    let names = this.#cache.get(agentId);
    if (!names) {
      names = this.#groups.filter(([, g]) => g.matches(agentId)).map(([n]) => n);
      if (this.#cache.size >= 10_000) this.#cache.clear();
      this.#cache.set(agentId, names);
    }
    return names;
  }
}
