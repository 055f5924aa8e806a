export {
  type Ap2ClosedMandateInput,
  Ap2CredentialProvider,
  type Ap2CredentialProviderOptions,
  Ap2Faults,
  type Ap2MandateStatus,
  type Ap2OpenMandateInput,
  type Ap2PaymentResult,
  type Ap2PayRequest,
} from './ap2-credential-provider.js';
export {
  type Ap2ClosedMandate,
  Ap2DeclineCode,
  type Ap2Mandate,
  type Ap2OpenMandate,
  type SignedMandate,
} from './ap2-types.js';
