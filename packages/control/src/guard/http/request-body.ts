import { Protocol } from '@bursar/core';
import { z } from 'zod';

const stringError = (issue: { input?: unknown }) =>
  issue.input === undefined ? 'required' : 'must be a string';
const text = (max: number) =>
  z
    .string({ error: stringError })
    .trim()
    .min(1, 'must not be empty')
    .max(max, `must be at most ${max} characters`);

/**
 * The JSON body the HTTP integrations read by default: what the agent asks to pay. Other
 * fields of the body are ignored, including any `agentId`: identity comes from the
 * authenticated request, never from the body.
 */
export const PaymentRequestBody = z.object(
  {
    amount: z.union([text(64), z.number({ error: 'must be a decimal string or number' })], {
      error: (issue) => (issue.input === undefined ? 'required' : 'must be a decimal string or number'),
    }),
    currency: text(32),
    recipient: text(2048).optional(),
    protocol: Protocol.optional(),
    network: text(128).optional(),
    purpose: z.string({ error: 'must be a string' }).max(2000, 'must be at most 2000 characters').optional(),
    params: z.record(z.string(), z.unknown(), { error: 'must be an object' }).optional(),
    idempotencyKey: text(256).optional(),
  },
  { error: 'the request body must be a JSON object (is a JSON body parser installed?)' },
);
export type PaymentRequestBody = z.output<typeof PaymentRequestBody>;
