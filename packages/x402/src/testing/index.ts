export {
  type FacilitatorFault,
  type FacilitatorRoute,
  type FacilitatorServer,
  type ServableFacilitator,
  serveFacilitator,
} from './facilitator-server.js';
export { inProcessFacilitator } from './in-process-facilitator.js';
export {
  type TestAuthorization,
  TestLedger,
  type TestSettlement,
  type TestWallet,
} from './test-ledger.js';
export {
  createTestScheme,
  TEST_ASSET,
  TEST_NETWORK,
  TEST_SCHEME,
  type TestScheme,
  type TestSchemeOptions,
  testSupportedKind,
} from './test-scheme.js';
