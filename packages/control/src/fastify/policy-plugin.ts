import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import { parseOptions } from '../guard/gate-options.js';
import {
  APPROVAL_ID_HEADER,
  approvalStatusAnswer,
  type BursarRequestContext,
  HttpGate,
  type HttpGateOptions,
  headerValue,
  httpGateShape,
  IDEMPOTENCY_HEADER,
  intentFromBody,
  routeAction,
} from '../guard/http/index.js';

/** Per-route settings under `config.bursar`: `false` opts the route out. */
export type BursarRouteConfig = false | { action?: string };

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by Bursar's `policyPlugin` on an admitted request; null otherwise. */
    bursar: BursarRequestContext | null;
  }
  interface FastifyContextConfig {
    /** `false` leaves the route out of Bursar's policy check; `{ action }` names its action. */
    bursar?: BursarRouteConfig;
  }
}

/** Options of {@link policyPlugin}. */
export interface PolicyPluginOptions extends HttpGateOptions<FastifyRequest, FastifyReply> {
  /**
   * Where the plugin serves the status of approval requests when `approvals` is given
   * (default `/bursar/approvals/:id`; must contain `:id`); `false` for no such route.
   */
  statusRoute?: string | false;
}

const PluginOptions = z.strictObject({
  ...httpGateShape,
  statusRoute: z
    .union([z.string().regex(/^\/.*:id(\/|$)/, 'must be a path with an :id parameter'), z.literal(false)])
    .optional(),
});

/** Keys Fastify itself reads from `register` options; they are not the plugin's. */
const REGISTER_KEYS = new Set(['prefix', 'logLevel', 'logSerializers']);

/** The default identity: `request.auth.agentId`, set by your authentication hook. Never the body. */
export function defaultFastifyAgent(request: FastifyRequest): string | undefined {
  const auth = (request as FastifyRequest & { auth?: { agentId?: unknown } }).auth;
  return typeof auth?.agentId === 'string' ? auth.agentId : undefined;
}

const plugin: FastifyPluginAsync<PolicyPluginOptions> = async (app, options) => {
  const given = Object.fromEntries(Object.entries(options ?? {}).filter(([k]) => !REGISTER_KEYS.has(k)));
  const o = parseOptions(PluginOptions, given, 'policyPlugin') as PolicyPluginOptions;
  const gate = new HttpGate(o as HttpGateOptions<never, never>);
  const resolveAgent = o.resolveAgent ?? defaultFastifyAgent;
  const extractIntent = o.extractIntent ?? ((request: FastifyRequest) => intentFromBody(request.body));
  const action = o.action;

  // Registered in a parent context already: the decorator is inherited.
  if (!app.hasRequestDecorator('bursar')) app.decorateRequest('bursar', null);

  if (o.approvals !== undefined && o.statusRoute !== false) {
    const approvals = o.approvals;
    app.get<{ Params: { id: string } }>(
      o.statusRoute ?? '/bursar/approvals/:id',
      { config: { bursar: false } },
      async (request, reply) => {
        const out = await approvalStatusAnswer(
          approvals,
          await resolveAgent(request, reply),
          request.params.id,
        );
        return reply.code(out.status).headers(out.headers).send(out.body);
      },
    );
  }

  app.addHook('preHandler', async (request, reply) => {
    // Not found or opted out. Every registration checks the request; only the same one, or
    // an intent identical to one already held, lets it through without a second hold.
    if (request.is404) return;
    const route = request.routeOptions.config?.bursar;
    if (route === false) return;
    const outcome = await gate.decide({
      key: request.raw,
      resolveAgent: () => resolveAgent(request, reply),
      extractIntent: () => extractIntent(request, reply),
      action:
        route?.action ??
        (typeof action === 'string'
          ? action
          : action !== undefined
            ? action(request)
            : routeAction(request.method, request.routeOptions.url)),
      idempotencyKey: headerValue(request.headers[IDEMPOTENCY_HEADER]),
      approvalId: headerValue(request.headers[APPROVAL_ID_HEADER]),
    });
    if (outcome.kind === 'respond') {
      return reply.code(outcome.status).headers(outcome.headers).send(outcome.body);
    }
    if (outcome.kind === 'proceed') {
      const signal = gate.settleOn(reply.raw, outcome.decision.holdId);
      request.bursar = { decision: outcome.decision, intent: outcome.intent, signal };
    }
  });
};

/**
 * Fastify 5 plugin that puts routes under policy: every route of the context it is
 * registered in (an encapsulated context limits it to some routes), except routes with
 * `config: { bursar: false }`. Same behaviour and answers as the Express
 * `policyMiddleware`: 401 without an identity, 400 with field issues, 403 deny, 429 rate
 * limit with `Retry-After`, 202 pending approval, otherwise `request.bursar` is set and the
 * hold is captured when the response finishes with 2xx, released when it finishes otherwise
 * or the client disconnects first. With `approvals`, it also serves
 * `GET /bursar/approvals/:id` (agent-safe status). Options are validated at registration.
 * Nested registrations each check a request (an outer one does not exempt an inner one for
 * another action); the same registration, or an identical intent, is not held twice.
 *
 * @example
 * await app.register(async (paid) => {
 *   await paid.register(policyPlugin, { engine, approvals });
 *   paid.post('/pay', async (request) => ({ paid: request.bursar?.intent.amount?.format() }));
 * });
 */
export const policyPlugin = fp(plugin, { fastify: '5.x', name: '@bursar/control/fastify' });
