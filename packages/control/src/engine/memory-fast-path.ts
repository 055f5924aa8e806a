import { type AgentStateStore, MemoryAgentStateStore, MemorySpendStore, type SpendStore } from '@bursar/core';

/*
 * Core's memory stores do their work synchronously behind the async store interface. When
 * the engine holds one whose methods are core's own, it calls their synchronous forms: the
 * same operations, without a promise and an await each (per authorize + capture, four of
 * each, a third of what the engine allocated). A subclass that overrides a method, or an
 * instance patched later (a test spy), fails the check, which runs on every call, and gets
 * the async call as before. A memory store is atomic either way: each call runs to its end.
 */

const spendProto = MemorySpendStore.prototype;
const agentsProto = MemoryAgentStateStore.prototype;

/** The store, when `placeHold` and `captureHold` are core's memory store's own. */
export function memorySpend(store: SpendStore): MemorySpendStore | undefined {
  return store instanceof MemorySpendStore &&
    store.placeHold === spendProto.placeHold &&
    store.placeHoldSync === spendProto.placeHoldSync &&
    store.captureHold === spendProto.captureHold &&
    store.captureHoldSync === spendProto.captureHoldSync
    ? store
    : undefined;
}

/** The store, when `getAgent` and `listKillSwitches` are core's memory store's own. */
export function memoryAgents(store: AgentStateStore): MemoryAgentStateStore | undefined {
  return store instanceof MemoryAgentStateStore &&
    store.getAgent === agentsProto.getAgent &&
    store.getAgentSync === agentsProto.getAgentSync &&
    store.listKillSwitches === agentsProto.listKillSwitches &&
    store.listKillSwitchesSync === agentsProto.listKillSwitchesSync
    ? store
    : undefined;
}
