import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyRequest } from 'fastify';
import { behave, type ServerFactory } from '../../guard/http/__fixtures__/http-harness.js';
import { type PolicyPluginOptions, policyPlugin } from '../policy-plugin.js';

type Authenticated = FastifyRequest & { auth: { agentId: string } | null };

/** A Fastify 5 test app: authentication from `x-agent`, POST /pay guarded, GET /health opted out. */
export const fastifyServer: ServerFactory = async ({ options, latch }) => {
  const app = Fastify({ logger: false });
  try {
    app.decorateRequest('auth', null);
    app.addHook('onRequest', async (request) => {
      const agent = request.headers['x-agent'];
      if (typeof agent === 'string') (request as Authenticated).auth = { agentId: agent };
    });
    await app.register(policyPlugin, options as unknown as PolicyPluginOptions);
    app.post('/pay', async (request, reply) => {
      const out = await behave(request.body, request.bursar, latch);
      return reply.code(out.status).send(out.json);
    });
    app.get('/health', { config: { bursar: false } }, async () => ({ ok: true }));
    await app.listen({ host: '127.0.0.1', port: 0 });
  } catch (error) {
    await app.close();
    throw error;
  }
  const { port } = app.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: async () => {
      app.server.closeAllConnections();
      await app.close();
    },
  };
};
