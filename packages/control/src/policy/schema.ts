import { type Outcome, Protocol } from '@bursar/core';
import { z } from 'zod';
import { parseWindow } from '../budgets/window.js';
import { parseDuration } from '../time/index.js';

const ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const UNSIGNED_DECIMAL = /^\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const SIGNED_DECIMAL = /^-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?$/;
const REASON_CODE = /^[a-z][a-z0-9_.:-]{0,63}$/;

const Id = z
  .string()
  .regex(ID_PATTERN, 'must be 1-128 letters, digits, ".", "_", ":" or "-", starting with a letter or digit');

const Text = (max: number) => z.string().trim().min(1, 'must not be empty').max(max);

/** A non-negative decimal (string or number). Numbers are kept as their decimal text. */
const Amount = z
  .union([
    z.string().trim().regex(UNSIGNED_DECIMAL, 'must be a non-negative decimal like "25.00"'),
    z
      .number()
      .finite()
      .nonnegative()
      .max(Number.MAX_SAFE_INTEGER, 'is beyond the exact range of a number; write it as a decimal string'),
  ])
  .transform((v) => (typeof v === 'number' ? String(v) : v));

const CurrencySymbol = Text(32);

const list = <T extends z.ZodType>(item: T) =>
  z
    .union([item, z.array(item).min(1, 'must list at least one value')])
    .transform((v) => (Array.isArray(v) ? (v as z.output<T>[]) : [v as z.output<T>]));

const Strings = list(Text(2048));

/** Outcome of a rule; `block` is accepted as another word for `deny`. */
const Action = z
  .enum(['allow', 'deny', 'require_approval', 'flag', 'block'])
  .transform((v): Outcome => (v === 'block' ? 'deny' : v));

const Duration = z
  .union([z.number(), z.string()])
  .refine(
    (v) => parseDuration(v) !== undefined,
    'must be a duration like "90m", "1h", "7d", or a positive whole number of ms',
  )
  .transform((v) => parseDuration(v)!);

const Window = z
  .string()
  .refine(
    (v) => parseWindow(v) !== undefined,
    'must be transaction, hourly, daily, weekly, monthly, lifetime or rolling:<duration> (e.g. rolling:90m)',
  )
  .transform((v) => {
    const spec = parseWindow(v)!;
    return spec.kind === 'rolling' ? `rolling:${spec.ms}` : spec.kind;
  });

const Numeric = z.union([
  z.number().finite(),
  z.string().trim().regex(SIGNED_DECIMAL, 'must be a number or a decimal string'),
]);

/**
 * Operators on a tool parameter, metadata entry or the purpose. Every operator given must
 * hold. A bare value is short for `{ eq: value }`, an array for `{ in: [...] }`.
 */
export const ParamCondition = z
  .union([
    z.string(),
    z.number(),
    z.boolean(),
    z.null(),
    z.array(z.unknown()),
    z
      .strictObject({
        eq: z.unknown().optional(),
        ne: z.unknown().optional(),
        gt: Numeric.optional(),
        gte: Numeric.optional(),
        lt: Numeric.optional(),
        lte: Numeric.optional(),
        contains: z.unknown().optional(),
        not_contains: z.unknown().optional(),
        matches: z.string().min(1).max(1000).optional(),
        in: z.array(z.unknown()).max(10_000).optional(),
        not_in: z.array(z.unknown()).max(10_000).optional(),
        exists: z.boolean().optional(),
      })
      .refine((o) => Object.keys(o).length > 0, 'needs at least one operator'),
  ])
  .transform((v) => {
    if (Array.isArray(v)) return { in: v };
    if (v !== null && typeof v === 'object') return v as ParamOperators;
    return { eq: v } as ParamOperators;
  });
/** The operators of one parameter condition, after shorthand is expanded. */
export interface ParamOperators {
  eq?: unknown;
  ne?: unknown;
  gt?: number | string;
  gte?: number | string;
  lt?: number | string;
  lte?: number | string;
  contains?: unknown;
  not_contains?: unknown;
  matches?: string;
  in?: unknown[];
  not_in?: unknown[];
  exists?: boolean;
}
/** The parameter operators every condition supports. */
export const PARAM_OPERATORS = [
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'contains',
  'not_contains',
  'matches',
  'in',
  'not_in',
  'exists',
] as const;

const AmountCondition = z
  .strictObject({
    gt: Amount.optional(),
    gte: Amount.optional(),
    lt: Amount.optional(),
    lte: Amount.optional(),
    eq: Amount.optional(),
    currency: CurrencySymbol.optional(),
  })
  .refine(
    (o) =>
      o.gt !== undefined ||
      o.gte !== undefined ||
      o.lt !== undefined ||
      o.lte !== undefined ||
      o.eq !== undefined,
    'needs at least one of gt, gte, lt, lte, eq',
  );

const RecipientCondition = z.union([
  Strings.transform((glob) => ({ glob }) as RecipientConditionOutput),
  z
    .strictObject({
      exact: Strings.optional(),
      glob: Strings.optional(),
      domain: Strings.optional(),
      not: z.boolean().optional(),
    })
    .refine(
      (o) => o.exact !== undefined || o.glob !== undefined || o.domain !== undefined,
      'needs at least one of exact, glob, domain',
    ),
]);
interface RecipientConditionOutput {
  exact?: string[];
  glob?: string[];
  domain?: string[];
  not?: boolean;
}

const Weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);

const TimeCondition = z
  .strictObject({
    days: z.array(Weekday).min(1).optional(),
    hours: z
      .strictObject({
        from: z.number().int().min(0).max(23),
        to: z.number().int().min(1).max(24),
      })
      .refine((h) => h.from !== h.to, 'from and to must differ (from > to wraps past midnight)')
      .optional(),
    timeZone: Text(64).optional(),
  })
  .refine((o) => o.days !== undefined || o.hours !== undefined, 'needs days or hours');

/**
 * What a rule (or a budget's `when`) looks at. Every condition given must hold. Strings in
 * `agent`, `action` and recipient `glob` lists are globs (`*`, `?`).
 */
export const Conditions = z.strictObject({
  amount: AmountCondition.optional(),
  currency: list(CurrencySymbol).optional(),
  network: Strings.optional(),
  protocol: list(Protocol).optional(),
  recipient: RecipientCondition.optional(),
  agent: Strings.optional(),
  agentGroup: list(Id).optional(),
  action: Strings.optional(),
  params: z.record(z.string().min(1).max(256), ParamCondition).optional(),
  metadata: z.record(z.string().min(1).max(256), ParamCondition).optional(),
  purpose: ParamCondition.optional(),
  time: TimeCondition.optional(),
});
export type Conditions = z.output<typeof Conditions>;
export type ConditionsInput = z.input<typeof Conditions>;

/** One rule: when its conditions hold, it argues for its action. */
export const Rule = z.strictObject({
  id: Id.optional(),
  description: Text(1000).optional(),
  action: Action,
  /** Higher runs first; equal priorities keep list order. Default 0. */
  priority: z.number().int().min(-1_000_000).max(1_000_000).optional(),
  when: Conditions.optional(),
  /** Whether a condition on a field the intent lacks counts as matching. */
  onMissing: z.enum(['match', 'no_match']).optional(),
  /** Risk points an allowed action adds to the agent's cumulative risk. */
  risk: z.number().finite().min(0).max(1_000_000).optional(),
  /** Reason code in decisions (default `rule_<action>`). */
  code: z.string().regex(REASON_CODE, 'must be lower_snake_case (a-z, 0-9, _ . : -)').optional(),
  /** Reason message in decisions. */
  message: Text(500).optional(),
});
export type Rule = z.output<typeof Rule>;
export type RuleInput = z.input<typeof Rule>;

/** Who a budget or rate limit counts together. */
export const Scope = z.enum(['global', 'agent', 'agent_group', 'recipient', 'action', 'agent_recipient']);
export type Scope = z.output<typeof Scope>;

const limitShape = {
  id: Id.optional(),
  description: Text(1000).optional(),
  scope: Scope.default('global'),
  /** For `agent_group` scope: only this group (default: each group the agent is in). */
  group: Id.optional(),
  /** Only intents matching these conditions count (a missing field counts as matching). */
  when: Conditions.optional(),
  window: Window,
};

/** An amount limit per window, in one currency; intents in other currencies do not touch it. */
export const Budget = z.strictObject({ ...limitShape, maxAmount: Amount, currency: CurrencySymbol });
export type Budget = z.output<typeof Budget>;
export type BudgetInput = z.input<typeof Budget>;

/** A count limit (velocity) per window. */
export const RateLimit = z.strictObject({
  ...limitShape,
  maxCount: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
});
export type RateLimit = z.output<typeof RateLimit>;
export type RateLimitInput = z.input<typeof RateLimit>;

const RiskConfig = z.strictObject({
  /** The most cumulative risk points an agent may reach in the window. */
  threshold: z.number().finite().min(0),
  window: Window.default('daily'),
});

const StrikesConfig = z.strictObject({
  /** Denied attempts inside the window that suspend the agent. */
  max: z.number().int().min(1).max(1_000_000),
  window: Duration.default(3_600_000),
});

/** Default ids, derived from content so that reordering a list does not move counters. */
export function defaultRuleId(index: number): string {
  return `rule-${index}`;
}
/** Default id of a budget: `<scope>-<window>-<currency>`. */
export function defaultBudgetId(b: { scope: string; window: string; currency: string }): string {
  return `${b.scope}-${b.window}-${b.currency}`.toLowerCase().replace(/[^a-z0-9._-]/g, '-');
}
/** Default id of a rate limit: `<scope>-<window>-count`. */
export function defaultRateLimitId(r: { scope: string; window: string }): string {
  return `${r.scope}-${r.window}-count`.toLowerCase().replace(/[^a-z0-9._-]/g, '-');
}

/**
 * A policy: rules, budgets, rate limits, risk and strike settings, as data. This one schema
 * validates JSON and YAML files and TypeScript objects alike; its output (ids and defaults
 * filled in) is itself a valid policy with the same content hash.
 *
 * @example
 * const result = Policy.safeParse(JSON.parse(text));
 */
export const Policy = z
  .strictObject({
    id: Id,
    version: z
      .union([Text(64), z.number().finite()])
      .transform(String)
      .default('1'),
    description: Text(2000).optional(),
    /** What applies when no rule matches (default `deny`). */
    defaultAction: Action.default('deny'),
    /**
     * The currencies this policy judges amounts in: symbols, or `'any'` for every currency.
     * Default: the currencies of its amount budgets and amount conditions. An intent with an
     * amount in a currency outside the set is denied (`currency_not_covered`), so that a rule
     * or budget written for one currency is not silently skipped by paying in another.
     */
    currencies: z
      .union([
        z.literal('any'),
        z.array(CurrencySymbol).min(1, "must list at least one currency, or be 'any'").max(1_000),
      ])
      .optional(),
    /** IANA zone for this policy's calendar windows and time conditions (default: the engine's). */
    timeZone: Text(64).optional(),
    /** Named groups of agents, each a list of agent-id globs. */
    agentGroups: z.record(Id, Strings).optional(),
    rules: z.array(Rule).max(10_000).default([]),
    budgets: z.array(Budget).max(1_000).default([]),
    rateLimits: z.array(RateLimit).max(1_000).default([]),
    risk: RiskConfig.optional(),
    strikes: StrikesConfig.optional(),
    metadata: z.record(z.string(), z.unknown()).optional(),
  })
  .superRefine((p, ctx) => {
    const dup = (seen: Set<string>, id: string, path: (string | number)[], what: string) => {
      if (seen.has(id)) {
        ctx.addIssue({
          code: 'custom',
          path,
          message: `duplicate ${what} id "${id}"; give each ${what} its own id`,
        });
      }
      seen.add(id);
    };
    const rules = new Set<string>();
    p.rules.forEach((r, i) => {
      dup(rules, r.id ?? defaultRuleId(i), ['rules', i, 'id'], 'rule');
      if (r.action === 'allow' && (r.when?.metadata !== undefined || r.when?.purpose !== undefined)) {
        const field = r.when?.metadata !== undefined ? 'metadata' : 'purpose';
        ctx.addIssue({
          code: 'custom',
          path: ['rules', i, 'when', field],
          message: `${field} is asserted by the agent and may only tighten a decision: use it in a deny, require_approval or flag rule`,
        });
      }
    });
    const limits = new Set<string>();
    p.budgets.forEach((b, i) => {
      dup(limits, b.id ?? defaultBudgetId(b), ['budgets', i, 'id'], 'budget');
      checkLimit(b, ['budgets', i], ctx);
    });
    p.rateLimits.forEach((r, i) => {
      dup(limits, r.id ?? defaultRateLimitId(r), ['rateLimits', i, 'id'], 'rate limit');
      checkLimit(r, ['rateLimits', i], ctx);
      if (r.window === 'transaction') {
        ctx.addIssue({
          code: 'custom',
          path: ['rateLimits', i, 'window'],
          message: 'a count limit needs a time window; transaction is for amount budgets',
        });
      }
    });
    if (p.risk && (p.risk.window === 'transaction' || p.risk.window.startsWith('rolling:'))) {
      ctx.addIssue({
        code: 'custom',
        path: ['risk', 'window'],
        message: 'cumulative risk is counted per hourly, daily, weekly, monthly or lifetime window',
      });
    }
    const groups = new Set(Object.keys(p.agentGroups ?? {}));
    const checkGroups = (names: readonly string[] | undefined, path: (string | number)[]) => {
      for (const g of names ?? []) {
        if (!groups.has(g)) {
          ctx.addIssue({
            code: 'custom',
            path,
            message: `unknown agent group "${g}"; define it in agentGroups`,
          });
        }
      }
    };
    p.rules.forEach((r, i) => {
      checkGroups(r.when?.agentGroup, ['rules', i, 'when', 'agentGroup']);
    });
    for (const kind of ['budgets', 'rateLimits'] as const) {
      p[kind].forEach((l, i) => {
        checkGroups(l.group === undefined ? undefined : [l.group], [kind, i, 'group']);
        checkGroups(l.when?.agentGroup, [kind, i, 'when', 'agentGroup']);
      });
    }
  })
  .transform((p) => ({
    ...p,
    rules: p.rules.map((r, i) => ({ ...r, id: r.id ?? defaultRuleId(i) })),
    budgets: p.budgets.map((b) => ({ ...b, id: b.id ?? defaultBudgetId(b) })),
    rateLimits: p.rateLimits.map((r) => ({ ...r, id: r.id ?? defaultRateLimitId(r) })),
  }));
/** A validated policy (ids and defaults filled in). */
export type Policy = z.output<typeof Policy>;
/** What authors write: a policy file's content or a TypeScript object. */
export type PolicyInput = z.input<typeof Policy>;

function checkLimit(
  l: { scope: string; group?: string | undefined; when?: Conditions | undefined },
  path: (string | number)[],
  ctx: z.RefinementCtx,
): void {
  if (l.group !== undefined && l.scope !== 'agent_group') {
    ctx.addIssue({
      code: 'custom',
      path: [...path, 'group'],
      message: 'group only applies to scope agent_group',
    });
  }
  for (const field of ['metadata', 'purpose'] as const) {
    if (l.when?.[field] !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: [...path, 'when', field],
        message: `${field} is asserted by the agent: a limit that it could switch off would let the agent loosen its own controls`,
      });
    }
  }
}
