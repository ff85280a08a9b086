import { Router } from 'express';
import type { Registry } from 'prom-client';
import type { AppContext } from './context';

/** /healthz (alive), /readyz (config loaded and Docker reachable), /metrics. No credentials needed. */
export function healthRouter(ctx: AppContext, registry: Registry): Router {
  const router = Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });

  router.get('/readyz', async (_req, res) => {
    if (ctx.draining()) {
      res.status(503).json({ ready: false, config: 'loaded', docker: 'not checked', message: 'shutting down' });
      return;
    }
    let docker: string;
    try {
      await ctx.docker.ping();
      docker = 'reachable';
    } catch (err) {
      docker = `unreachable: ${err instanceof Error ? err.message : String(err)}`;
    }
    // A dry run touches nothing, so it can do its job without the engine.
    const ready = docker === 'reachable' || ctx.dryRun;
    res.status(ready ? 200 : 503).json({ ready, config: 'loaded', docker, dryRun: ctx.dryRun });
  });

  router.get('/metrics', async (_req, res) => {
    const text = await registry.metrics();
    res.set('Content-Type', registry.contentType).send(text);
  });
  return router;
}
