export {
  type AmountBaseline,
  type AnomalyAssessment,
  type AnomalyCode,
  AnomalyDetector,
  type AnomalySignal,
  type PaymentToAssess,
} from './anomaly-detector.js';
export { AnomalyDetectorOptions } from './detector-options.js';
