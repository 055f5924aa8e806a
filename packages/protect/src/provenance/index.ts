export {
  assessCompleteness,
  type CompletenessReport,
  type PaymentStatus,
  PROVENANCE_STAGES,
  type ProvenanceStage,
  stageOf,
} from './completeness.js';
export { eventRecordData, RECORDED_EVENTS } from './event-records.js';
export {
  type PaymentChain,
  ProvenanceLog,
  type ProvenanceLogOptions,
  type ProvenanceVerifyOptions,
  type TimeRange,
} from './provenance-log.js';
