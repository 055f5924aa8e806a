export { AgentGroups } from './agent-groups.js';
export {
  type CompileContext,
  type CompiledConditions,
  type ConditionTest,
  compileConditions,
  type IndexHints,
  missingFields,
  PolicyScope,
  runConditions,
} from './conditions.js';
export { compareDecimal, type Decimal, toDecimal } from './decimal.js';
export { evaluatePolicy, type PolicyVerdict } from './evaluate-policy.js';
export { IntentFacts } from './facts.js';
export { cachedGlob, GlobSet, globToRegExp, isGlob, literalPrefix, literalSuffix } from './glob.js';
export { compileOperators, compilePath, compilePattern, type ValueTest } from './param-operators.js';
export {
  canonicalRecipient,
  canonicalRecipientPattern,
  compileRecipientGlob,
  normalizeDomain,
  normalizeRecipient,
  normalizeRecipientPattern,
  type RecipientForm,
  RecipientIndex,
  type RecipientPatternForm,
  type RecipientPatterns,
  recipientHost,
  recipientTargetMatches,
} from './recipient.js';
export { RuleIndex } from './rule-index.js';
export { and, FALSE, MISSING, TRUE, type Tri } from './tri.js';
