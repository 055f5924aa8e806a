import type { Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { type ApprovalGate, isApprovalGate } from '../guard/approval-gate.js';
import { fnOption, invalidOptions, parseOptions } from '../guard/gate-options.js';
import { approvalStatusAnswer } from '../guard/http/index.js';
import { defaultExpressAgent } from './policy-middleware.js';

/** Options of {@link approvalStatusHandler}. */
export interface ApprovalStatusHandlerOptions {
  /** The authenticated agent (same default as `policyMiddleware`). Agents see only their own requests. */
  resolveAgent?: (
    req: Request,
    res: Response,
  ) => string | undefined | null | Promise<string | undefined | null>;
  /** The route parameter holding the approval id (default `id`). */
  param?: string;
}

const HandlerOptions = z.strictObject({
  resolveAgent: fnOption().optional(),
  param: z.string().min(1).optional(),
});

/**
 * An Express handler answering the status of an approval request (the `statusUrl` of a 202):
 * 200 with the agent-safe view (no approver context), 404 when there is no such request for
 * the authenticated agent, 401 without an identity.
 *
 * @example
 * app.get('/bursar/approvals/:id', authenticate, approvalStatusHandler(approvals));
 */
export function approvalStatusHandler(
  approvals: ApprovalGate,
  options: ApprovalStatusHandlerOptions = {},
): RequestHandler {
  const o = parseOptions(HandlerOptions, options, 'approvalStatusHandler') as ApprovalStatusHandlerOptions;
  if (!isApprovalGate(approvals)) {
    throw invalidOptions('approvalStatusHandler', [
      { path: 'approvals', message: 'must be an ApprovalManager (get, waitFor, complete)' },
    ]);
  }
  const resolveAgent = o.resolveAgent ?? defaultExpressAgent;
  const param = o.param ?? 'id';
  return (req, res, next) => {
    (async () => {
      const id = String((req.params as Record<string, unknown>)[param] ?? '');
      const out = await approvalStatusAnswer(approvals, await resolveAgent(req, res), id);
      res.status(out.status).set(out.headers).json(out.body);
    })().catch(next);
  };
}
