export {
  type BackoffOptions,
  type Recovery,
  type RecoveryAction,
  type RecoveryAttempt,
  type RecoveryCause,
  type RecoveryExecutor,
  type RecoveryKind,
  RecoveryManager,
  type RecoveryManagerOptions,
  type RecoveryRequest,
  type RecoveryStatus,
  type UndeliveredRecoveryInput,
} from './recovery-manager.js';
