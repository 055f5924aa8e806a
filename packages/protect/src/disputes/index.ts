export type {
  Dispute,
  DisputeEvidence,
  DisputeResolution,
  DisputeState,
  DisputeTransition,
  ProvenanceEvidence,
  SettledPayment,
} from './dispute.js';
export {
  DisputeManager,
  type DisputeManagerOptions,
  type EvidenceInput,
  type OpenDisputeInput,
  type ResolveDisputeInput,
} from './dispute-manager.js';
