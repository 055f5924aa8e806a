import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type express from 'express';
import type { ErrorRequestHandler, Request } from 'express';
import { behave, type ServerFactory } from '../../guard/http/__fixtures__/http-harness.js';
import type { ApprovalGate } from '../../guard/index.js';
import { approvalStatusHandler } from '../approval-status-handler.js';
import { type PolicyMiddlewareOptions, policyMiddleware } from '../policy-middleware.js';

/** A test app on the given Express (4 or 5): authentication from `x-agent`, POST /pay guarded. */
export function expressServer(lib: typeof express): ServerFactory {
  return async ({ options, latch }) => {
    const guard = policyMiddleware(options as unknown as PolicyMiddlewareOptions);
    const app = lib();
    app.use(lib.json());
    app.use((req, _res, next) => {
      const agent = req.get('x-agent');
      if (agent) (req as Request & { auth?: { agentId: string } }).auth = { agentId: agent };
      next();
    });
    if (options.approvals) {
      app.get('/bursar/approvals/:id', approvalStatusHandler(options.approvals as ApprovalGate));
    }
    app.post('/pay', guard, (req, res, next) => {
      behave(req.body, req.bursar, latch).then((out) => {
        res.status(out.status).json(out.json);
      }, next);
    });
    const onError: ErrorRequestHandler = (_err, _req, res, _next) => {
      res.status(500).json({ error: { code: 'handler_failed' } });
    };
    app.use(onError);
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { port } = server.address() as AddressInfo;
    return {
      url: `http://127.0.0.1:${port}`,
      close: async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
      },
    };
  };
}
