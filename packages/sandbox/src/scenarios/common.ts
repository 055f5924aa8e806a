/** The seller's address on the sandbox x402 rail (Base Sepolia USDC). */
export const SELLER = '0x5e11e5e11e5e11e5e11e5e11e5e11e5e11e5e11e';

/** One minute, in ms. */
export const MINUTE = 60_000;
