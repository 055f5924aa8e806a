export {
  BursarError,
  type BursarErrorOptions,
  describeIssues,
  ErrorCode,
  toIssues,
  ValidationError,
  type ValidationIssue,
} from './bursar-error.js';
