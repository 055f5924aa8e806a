export { SANDBOX_ASSET, SANDBOX_ASSET_DECIMALS, SANDBOX_NETWORK, SANDBOX_SCHEME } from './constants.js';
export { type ChainTransfer, SandboxChain, type SandboxChainOptions } from './sandbox-chain.js';
export {
  SandboxAuthorization,
  type SandboxFacilitatorSchemeOptions,
  SandboxInvalidReason,
  SandboxPayload,
  sandboxClientScheme,
  sandboxFacilitatorScheme,
  sandboxNonce,
  sandboxServerScheme,
  sandboxSupportedKind,
} from './sandbox-scheme.js';
export { addressOf, SandboxWallet, verifySignature } from './wallet.js';
export {
  createX402Buyer,
  type X402BuyerOptions,
  type X402MockBuyer,
  type X402PurchaseOptions,
  type X402PurchaseResult,
} from './x402-buyer.js';
export {
  SettleFault,
  startX402Facilitator,
  VerifyFault,
  type X402FacilitatorCalls,
  X402FacilitatorFaults,
  type X402FacilitatorOptions,
  type X402MockFacilitator,
} from './x402-facilitator.js';
export {
  startX402ResourceServer,
  type X402Delivery,
  type X402MockResourceServer,
  X402ResourceFaults,
  type X402ResourceServerOptions,
  X402Route,
} from './x402-resource-server.js';
export { startX402Sandbox, type X402Sandbox, type X402SandboxOptions } from './x402-sandbox.js';
