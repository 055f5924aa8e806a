export { type PrometheusRecorderOptions, prometheusRecorder } from './prometheus-recorder.js';
