import type { BursarEventName, Decision } from '@bursar/core';

/** Bus events {@link ProvenanceLog.attach} records by default: the payment lifecycle and operator changes. */
export const RECORDED_EVENTS: readonly BursarEventName[] = [
  'intent.received',
  'decision.made',
  'hold.placed',
  'hold.captured',
  'hold.released',
  'hold.expired',
  'approval.requested',
  'approval.resolved',
  'payment.settled',
  'payment.failed',
  'control.changed',
];

/** Decision fields kept in a `decision.made` record (facts already on the event are not repeated). */
const DECISION_FIELDS = [
  'outcome',
  'reasons',
  'policies',
  'holdId',
  'approvalId',
  'evaluatedAt',
  'replayed',
] as const satisfies readonly (keyof Decision)[];

/**
 * The record data of a bus event: its payload with `at` renamed `eventAt` (the emitter's time;
 * the record's own `at` is the log's clock), and for `decision.made` the decision's outcome,
 * reasons, policy references (id, version, content hash), hold and approval ids flattened in.
 * Everything else (e.g. `source` on `payment.settled`, `approvers` and `channel` on
 * `approval.resolved`) is kept as emitted.
 */
export function eventRecordData(type: string, payload: unknown): Record<string, unknown> {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    return { value: payload };
  }
  // A key loop, not `{ ...rest }`: spreading payloads of varying shapes makes slow dictionary objects.
  const source = payload as Record<string, unknown>;
  const data: Record<string, unknown> = {};
  const keys = Object.keys(source);
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i]!;
    if (key === 'at' || key === 'decision') continue;
    if (key === '__proto__') {
      Object.defineProperty(data, key, {
        value: source[key],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    } else {
      data[key] = source[key];
    }
  }
  if (typeof source.at === 'number') data.eventAt = source.at;
  const decision = source.decision;
  if (type === 'decision.made' && typeof decision === 'object' && decision !== null) {
    const d = decision as Partial<Decision>;
    for (const field of DECISION_FIELDS) {
      if (d[field] !== undefined && data[field] === undefined) data[field] = d[field];
    }
    if (data.intentId === undefined && typeof d.intentId === 'string') data.intentId = d.intentId;
    if (data.intentHash === undefined && typeof d.intentHash === 'string') data.intentHash = d.intentHash;
    if (data.agentId === undefined && typeof d.agentId === 'string') data.agentId = d.agentId;
  } else if (decision !== undefined) {
    data.decision = decision;
  }
  return data;
}
