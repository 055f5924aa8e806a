export {
  type Asset,
  type AssetAddress,
  type AssetDefinition,
  AssetRegistry,
  defaultAssets,
  Networks,
} from './asset.js';
export { type AmountInput, formatMinor, MAX_MINOR_UNITS, Money, type MoneyOptions } from './money.js';
