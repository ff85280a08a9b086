import { Router, type Request, type Response } from 'express';
import { submitManual } from '../intake/manual-intake';
import type { ActionOutcome, Submission } from '../lifecycle/submission';
import { LIFECYCLE_ACTIONS, type LifecycleAction } from '../lifecycle/types';
import { requireAuth, sampledWarn } from './auth';
import type { AppContext } from './context';
import { UNAVAILABLE_MESSAGES } from './unavailable';

/**
 * /api/v1/targets: state, manual start/stop, and wake (start, then answer once ready or after a timeout).
 * Only names from the configuration are accepted; manual and wake calls skip cooldown and minimum running time.
 */
export function targetsRouter(ctx: AppContext): Router {
  const router = Router();
  const unauthorizedLog = sampledWarn(ctx.logger, ctx.clock, 'api request rejected');
  router.use('/api/v1', requireAuth(ctx.authCheck, () => unauthorizedLog({ status: 401 })));

  router.get('/api/v1/targets', (_req, res) => {
    res.json({ dryRun: ctx.dryRun, targets: ctx.manager.views() });
  });

  router.get('/api/v1/targets/:name', (req, res) => {
    const name = knownTarget(ctx, req, res);
    if (name !== undefined) res.json(ctx.manager.view(name));
  });

  for (const action of LIFECYCLE_ACTIONS) {
    router.post(`/api/v1/targets/:name/${action}`, async (req, res) => {
      const submitted = await submitChecked(ctx, req, res, action, 'manual');
      if (submitted === undefined) return;
      const status = submitted.disposition === 'suppressed' ? 409 : 202;
      res.status(status).json({ target: req.params.name, action, disposition: submitted.disposition, reason: submitted.reason });
    });
  }

  router.post('/api/v1/targets/:name/wake', async (req, res) => {
    const limit = ctx.config.wakeTimeoutSeconds;
    const asked = Number(req.query.timeout_seconds ?? limit);
    if (!Number.isFinite(asked) || asked <= 0) {
      res.status(400).json({ error: 'bad_request', message: 'timeout_seconds must be a positive number' });
      return;
    }
    const submitted = await submitChecked(ctx, req, res, 'start', 'wake');
    if (submitted === undefined) return;
    const outcome = await within(submitted.outcome, Math.min(asked, limit) * 1000);
    const { status, body } = wakeAnswer(req.params.name as string, outcome, ctx.dryRun);
    if (status === 503) res.set('Retry-After', '5');
    res.status(status).json(body);
  });
  return router;
}

function knownTarget(ctx: AppContext, req: Request, res: Response): string | undefined {
  const name = req.params.name as string;
  if (ctx.manager.has(name)) return name;
  unknownTarget(res, name);
  return undefined;
}

function unknownTarget(res: Response, name: string): void {
  res.status(404).json({ error: 'unknown_target', message: `no target group named "${name}" in the configuration` });
}

async function submitChecked(
  ctx: AppContext,
  req: Request,
  res: Response,
  action: LifecycleAction,
  origin: 'manual' | 'wake',
): Promise<Submission | undefined> {
  const name = req.params.name as string;
  const result = await submitManual(ctx, name, action, origin);
  switch (result.outcome) {
    case 'unknown_target':
      unknownTarget(res, name);
      return undefined;
    case 'unavailable':
      res.status(503).set('Retry-After', '5').json({ error: result.error, message: UNAVAILABLE_MESSAGES[result.error] });
      return undefined;
    case 'submitted':
      return result.submission;
  }
}

async function within(outcome: Promise<ActionOutcome>, ms: number): Promise<ActionOutcome | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([outcome, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function wakeAnswer(target: string, outcome: ActionOutcome | undefined, dryRun: boolean): { status: number; body: object } {
  if (outcome === undefined) {
    return { status: 503, body: { target, ready: false, result: 'timeout', message: 'not ready yet; the start goes on' } };
  }
  const body = { target, ready: outcome.ready === true, result: outcome.result, reason: outcome.reason, error: outcome.error, dryRun };
  switch (outcome.result) {
    case 'success':
    case 'noop':
    case 'dry_run':
      return { status: outcome.ready === false ? 503 : 200, body };
    case 'failed':
      return { status: 502, body };
    case 'suppressed':
      return { status: 409, body };
    case 'not_ready':
    case 'abandoned':
      return { status: 503, body };
  }
}
