import type { Clock } from '@bursar/core';
import { z } from 'zod';
import { isValidTimeZone } from '../internal/index.js';

const score = z.number().positive().max(1e6);

const AmountOptions = z
  .strictObject({
    /** Executed payments a baseline needs before it can raise a signal (default 10). */
    minSamples: z.number().int().min(2).default(10),
    /** Payments after which an old payment weighs half (default 50). */
    halfLife: z.number().positive().default(50),
    /**
     * Floor of the spread on the log scale (default 0.2, about ±22 %): a constant history
     * never has zero spread, so a slightly different amount is not an outlier.
     */
    minSpread: z.number().positive().default(0.2),
    /** Updates are clipped to this many spreads (default 3): one outlier cannot drag the baseline. */
    clip: z.number().positive().default(3),
    /** Score from which the signal flags (default 4). */
    flagScore: score.default(4),
    /** Score from which it asks for approval (default 8). */
    approvalScore: score.default(8),
    /** Score from which it denies. Off unless set: the detector escalates, it does not block. */
    denyScore: score.optional(),
    /** `high` (default): only amounts above the baseline; `both`: also far below it. */
    direction: z.enum(['high', 'both']).default('high'),
  })
  .refine((o) => o.approvalScore >= o.flagScore, { message: 'approvalScore must be ≥ flagScore' })
  .refine((o) => o.denyScore === undefined || o.denyScore >= o.approvalScore, {
    message: 'denyScore must be ≥ approvalScore',
  });

const BurstOptions = z
  .strictObject({
    /** Length of the sliding window (default 60 s). */
    windowMs: z.number().int().min(1000).max(86_400_000).default(60_000),
    /** Sub-buckets of the window (default 6). */
    slots: z.number().int().min(1).max(120).default(6),
    /** Windows after which an old window weighs half in the baseline rate (default 60). */
    halfLifeWindows: z.number().positive().default(60),
    /** Whole windows of history needed before a burst is judged (default 10). */
    minWindows: z.number().int().min(1).default(10),
    /** Payments in the window (this one included) below which nothing is a burst (default 5). */
    minCount: z.number().int().min(2).default(5),
    flagScore: score.default(4),
    approvalScore: score.default(10),
    denyScore: score.optional(),
  })
  .refine((o) => o.approvalScore >= o.flagScore, { message: 'approvalScore must be ≥ flagScore' })
  .refine((o) => o.denyScore === undefined || o.denyScore >= o.approvalScore, {
    message: 'denyScore must be ≥ approvalScore',
  });

const HourOptions = z.strictObject({
  /** Executed payments an agent needs before its hours are judged (default 100). */
  minSamples: z.number().int().min(24).default(100),
  /** An hour with less than this share of the agent's payments is unusual (default 0.005 = 0.5 %). */
  rareShare: z
    .number()
    .positive()
    .max(1 / 24)
    .default(0.005),
  /** Counts are halved when the total reaches this (default 10,000), so habits can change. */
  decayAt: z.number().int().min(100).default(10_000),
  outcome: z.enum(['flag', 'require_approval']).default('flag'),
});

const FirstTimeOptions = z.strictObject({
  /** Executed payments the agent needs before a new recipient is remarkable (default 3). */
  minAgentPayments: z.number().int().min(0).default(3),
  outcome: z.enum(['flag', 'require_approval']).default('flag'),
});

/** Options of `AnomalyDetector` (validated once, unknown keys rejected). Pass `false` to turn a signal off. */
export const AnomalyDetectorOptions = z.strictObject({
  /** Provider name the policy engine shows in reasons (default `bursar.anomaly`). */
  name: z.string().min(1).max(100).default('bursar.anomaly'),
  clock: z
    .custom<Clock>((v) => typeof (v as Clock | undefined)?.now === 'function', {
      message: 'must be a Clock ({ now(): number })',
    })
    .optional(),
  /** IANA zone for the hour-of-day profile (default `UTC`). */
  timeZone: z
    .string()
    .refine(isValidTimeZone, { message: 'must be an IANA time zone, e.g. America/New_York' })
    .default('UTC'),
  /** Agents tracked at most (least recently active forgotten first; default 100,000). */
  maxAgents: z.number().int().positive().default(100_000),
  /** Agent × recipient and agent × action baselines kept at most in all (default 500,000). */
  maxBaselines: z.number().int().positive().default(500_000),
  /** Recipients remembered per agent (least recently paid forgotten first; default 10,000). */
  maxRecipientsPerAgent: z.number().int().positive().default(10_000),
  amount: z.union([z.literal(false), AmountOptions]).default(AmountOptions.parse({})),
  burst: z.union([z.literal(false), BurstOptions]).default(BurstOptions.parse({})),
  hour: z.union([z.literal(false), HourOptions]).default(HourOptions.parse({})),
  firstTimeRecipient: z.union([z.literal(false), FirstTimeOptions]).default(FirstTimeOptions.parse({})),
});
/** What callers pass to `new AnomalyDetector()`. */
export type AnomalyDetectorOptions = z.input<typeof AnomalyDetectorOptions>;
