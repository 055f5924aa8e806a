import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { z } from 'zod';
import { parseOptions } from '../guard/gate-options.js';
import {
  APPROVAL_ID_HEADER,
  type BursarRequestContext,
  HttpGate,
  type HttpGateOptions,
  headerValue,
  httpGateShape,
  IDEMPOTENCY_HEADER,
  intentFromBody,
  normalizeActionPath,
  routeAction,
} from '../guard/http/index.js';

declare global {
  namespace Express {
    interface Request {
      /** Set by Bursar's `policyMiddleware` on an admitted request. */
      bursar?: BursarRequestContext;
    }
  }
}

/** Options of {@link policyMiddleware}. */
export type PolicyMiddlewareOptions = HttpGateOptions<Request, Response>;

const MiddlewareOptions = z.strictObject(httpGateShape);

/**
 * The default identity: what authentication middleware put on the request
 * (`req.auth.agentId`) or in `res.locals.bursarAgentId`. Never the body.
 */
export function defaultExpressAgent(req: Request, res: Response): string | undefined {
  const auth = (req as Request & { auth?: { agentId?: unknown } }).auth;
  if (typeof auth?.agentId === 'string') return auth.agentId;
  const local = (res.locals as { bursarAgentId?: unknown }).bursarAgentId;
  return typeof local === 'string' ? local : undefined;
}

/**
 * `"<METHOD> <path>"` of an Express request: the matched route's path when there is one
 * (route-level mounting), else the request path (app-level mounting, before routing), in
 * both cases normalized (lower case, duplicate and trailing slashes removed), so that
 * `POST /PAY` and `POST /pay/`, which Express routes to `/pay`, are the action `POST /pay`.
 */
export function expressRouteAction(req: Request): string {
  const route = (req as Request & { route?: { path?: unknown } }).route;
  const path = typeof route?.path === 'string' ? `${req.baseUrl}${route.path}` : `${req.baseUrl}${req.path}`;
  return routeAction(req.method, normalizeActionPath(path));
}

/**
 * Express middleware (Express 4 and 5) that puts a route under policy. For each request it
 * takes the agent from the authenticated identity (`resolveAgent`; missing → 401), builds the
 * intent (`extractIntent`, default: the JSON body; invalid → 400 with field issues) and
 * authorizes it:
 *
 * - deny → 403 `{ error: { code: 'policy_denied', message, decision } }`; a rate limit → 429
 *   with `Retry-After`;
 * - approval required → 202 `{ status: 'pending', approvalId, statusUrl }`; the client retries
 *   the same request with the `bursar-approval-id` header;
 * - allow → `req.bursar = { decision, intent, signal }` and the route runs; the hold is
 *   captured when the response finishes with 2xx, released when it finishes otherwise or the
 *   client disconnects first (exactly once).
 *
 * The default action is `"<METHOD> <path>"` with the path lower-cased and without duplicate or
 * trailing slashes (see {@link expressRouteAction}). Several middlewares on one request each
 * check it (an app-level one does not exempt a route-level one for another action); see
 * `HttpGate.decide` for how a nested check holds and what it leaves to the first one.
 *
 * Options are validated here (`ERR_BURSAR_INVALID_OPTIONS`). Internal errors answer 503
 * (fail closed) unless `failOpen` is set. Mount a JSON body parser (`express.json()`) first.
 *
 * @example
 * app.post('/pay', express.json(), authenticate, policyMiddleware({ engine }), (req, res) => {
 *   res.json({ paid: req.bursar?.intent.amount?.format() });
 * });
 */
export function policyMiddleware(options: PolicyMiddlewareOptions): RequestHandler {
  const o = parseOptions(MiddlewareOptions, options, 'policyMiddleware') as PolicyMiddlewareOptions;
  const gate = new HttpGate(o as HttpGateOptions<never, never>);
  const resolveAgent = o.resolveAgent ?? defaultExpressAgent;
  const extractIntent = o.extractIntent ?? ((req: Request) => intentFromBody(req.body));
  const action = o.action;

  const handle = async (req: Request, res: Response, next: NextFunction): Promise<void> => {
    // Every policyMiddleware on the request checks it; only this same middleware, entered
    // again, or an identical intent already held, is let through without a second hold.
    const outcome = await gate.decide({
      key: req,
      resolveAgent: () => resolveAgent(req, res),
      extractIntent: () => extractIntent(req, res),
      action:
        typeof action === 'string' ? action : action !== undefined ? action(req) : expressRouteAction(req),
      idempotencyKey: headerValue(req.headers[IDEMPOTENCY_HEADER]),
      approvalId: headerValue(req.headers[APPROVAL_ID_HEADER]),
    });
    switch (outcome.kind) {
      case 'respond':
        res.status(outcome.status).set(outcome.headers).json(outcome.body);
        return;
      case 'bypass':
      case 'skip':
        next();
        return;
      case 'proceed': {
        const signal = gate.settleOn(res, outcome.decision.holdId);
        req.bursar = { decision: outcome.decision, intent: outcome.intent, signal };
        next();
        return;
      }
    }
  };

  return (req, res, next) => {
    // Express 4 ignores returned promises: failures go to next(err) explicitly.
    handle(req, res, next).catch(next);
  };
}
