export { AcpClient, type AcpRequestOptions, type AcpResponse } from './acp-client.js';
export {
  AcpFaults,
  type AcpMerchantCalls,
  type AcpMerchantOptions,
  type AcpMockMerchant,
  type AcpStoredToken,
  DEFAULT_ACP_PRODUCTS,
  startAcpMerchant,
} from './acp-merchant.js';
export {
  ACP_API_VERSION,
  type AcpAllowance,
  type AcpCheckoutSession,
  type AcpCheckoutStatus,
  AcpDeclineCode,
  type AcpDelegatedToken,
  type AcpError,
  type AcpItem,
  type AcpLineItem,
  type AcpOrder,
  type AcpTotal,
} from './acp-types.js';
export { IdempotencyTable, type IdempotencyVerdict, type StoredResponse } from './idempotency-table.js';
