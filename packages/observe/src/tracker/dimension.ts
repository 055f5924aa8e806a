import type { SpendRecord } from './spend-record.js';

/** What spend can be grouped by (currency is always kept apart as well). */
export type Dimension = 'agent' | 'recipient' | 'action' | 'protocol';

/** Every dimension, in the order index names use. */
export const DIMENSIONS: readonly Dimension[] = ['agent', 'recipient', 'action', 'protocol'];

/** Internal value for "the payment did not name it" (e.g. no recipient). */
export const NONE = '';

/** The value of `dim` on a record (`NONE` when absent). */
export function dimensionValue(record: SpendRecord, dim: Dimension): string {
  switch (dim) {
    case 'agent':
      return record.agentId;
    case 'recipient':
      return record.recipient ?? NONE;
    case 'action':
      return record.action;
    default:
      return record.protocol ?? NONE;
  }
}

/** Filter fields of queries, by dimension. */
export const FILTER_FIELD: Readonly<Record<Dimension, 'agentId' | 'recipient' | 'action' | 'protocol'>> = {
  agent: 'agentId',
  recipient: 'recipient',
  action: 'action',
  protocol: 'protocol',
};
