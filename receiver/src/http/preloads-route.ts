import express, { Router, type RequestHandler } from 'express';
import { preloadRecord } from '../lifecycle/preload-record';
import { PRELOAD_RESULTS } from '../preload-report';
import { requireAuth, sampledWarn } from './auth';
import { answerForBodyError, isJsonMediaType } from './body-errors';
import type { AppContext } from './context';
import { parsePreloadRound } from './preload-body';

const PRELOADS_PATH = '/api/v1/targets/:name/preloads';

/** A round names at most 64 models of 200 characters: 32 KiB is ample. */
const BODY_LIMIT = '32kb';

/**
 * POST /api/v1/targets/NAME/preloads: the gateway reports a model preload round after the target came up.
 * Kept as the target's lastPreload (one per configured target) and counted in ai_dispatcher_preloads_total;
 * nothing here reaches Docker. 200 recorded; 400 not a round; 401; 404 unknown target; 413; 415.
 */
export function preloadsRouter(ctx: AppContext): Router {
  const { metrics, manager, logger } = ctx;
  for (const target of manager.names()) for (const result of PRELOAD_RESULTS) metrics.preloads.inc({ target, result }, 0);
  const unauthorizedLog = sampledWarn(logger, ctx.clock, 'api request rejected');
  const invalidLog = sampledWarn(logger, ctx.clock, 'preload report rejected');
  const parser = express.json({ limit: BODY_LIMIT, strict: true });

  const body: RequestHandler = (req, res, next) => {
    if (!isJsonMediaType(req.headers['content-type'])) {
      res.status(415).json({ error: 'unsupported_media_type', message: 'Content-Type must be application/json' });
      return;
    }
    parser(req, res, (err?: unknown) => {
      if (err === undefined) {
        next();
        return;
      }
      const answer = answerForBodyError(err);
      invalidLog({ status: answer.status, error: answer.error });
      res.status(answer.status).json({ error: answer.error, message: answer.message });
    });
  };

  const router = Router();
  router.post(PRELOADS_PATH, requireAuth(ctx.authCheck, () => unauthorizedLog({ status: 401 })), (req, res, next) => {
    const name = req.params.name as string;
    if (manager.has(name)) {
      next();
      return;
    }
    res.status(404).json({ error: 'unknown_target', message: `no target group named "${name}" in the configuration` });
  }, body, (req, res) => {
    const name = req.params.name as string;
    const parsed = parsePreloadRound(req.body);
    if ('problem' in parsed) {
      invalidLog({ status: 400, target: name, problem: parsed.problem });
      res.status(400).json({ error: 'invalid_preload_round', message: parsed.problem });
      return;
    }
    const record = preloadRecord(parsed.round, ctx.clock.now());
    manager.recordPreload(name, record);
    for (const { result } of record.models) metrics.preloads.inc({ target: name, result });
    logger.info('model preload round reported', { target: name, models: record.models, allLoaded: record.allLoaded });
    res.status(200).json({ target: name, recorded: record.models.length });
  });
  return router;
}
