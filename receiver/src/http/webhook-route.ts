import express, { type ErrorRequestHandler, type RequestHandler } from 'express';
import { DockerUnavailableError } from '../docker/controller';
import { ShuttingDownError, type Disposition } from '../lifecycle/submission';
import { planNotification } from '../lifecycle/planner';
import type { LifecycleAction } from '../lifecycle/types';
import { alertnameValue, type WebhookOutcome } from '../metrics';
import { jsonShapeProblem } from '../webhook/json-shape';
import { WEBHOOK_JSON_LIMITS, checkPayload } from '../webhook/payload';
import { requireAuth, sampledWarn } from './auth';
import { answerForBodyError, isJsonMediaType } from './body-errors';
import type { AppContext } from './context';
import { sendJson } from './send-json';

export const WEBHOOK_PATH = '/webhook/alertmanager';

const SHAPE_MESSAGES = {
  depth: `nested deeper than ${WEBHOOK_JSON_LIMITS.maxDepth} levels`,
  container: `an object or array with more than ${WEBHOOK_JSON_LIMITS.maxPerContainer} entries`,
  values: `more than ${WEBHOOK_JSON_LIMITS.maxValues} values`,
} as const;

/** Before JSON.parse: a body no Alertmanager sends is refused without building it (issue 15). */
function refuseComplexJson(_req: unknown, _res: unknown, buf: Buffer, encoding: string): void {
  // The shape scan reads UTF-8 bytes; Alertmanager sends nothing else.
  if (encoding.toLowerCase() !== 'utf-8') throw Object.assign(new Error(`unsupported charset ${encoding}`), { status: 415, type: 'charset.unsupported' });
  const problem = jsonShapeProblem(buf, WEBHOOK_JSON_LIMITS);
  if (problem) throw Object.assign(new Error(`the body is not an Alertmanager notification: ${SHAPE_MESSAGES[problem]}`), { status: 400, type: 'entity.too.complex' });
}

/**
 * The handler chain of POST /webhook/alertmanager (registered on the app itself: it is the hot path). Answers as soon as the actions are handed to the target manager:
 * 202 when something was queued, 200 when there was nothing to do; the start and its readiness wait
 * go on in the background (Alertmanager 0.25 has no webhook timeout and re-sends while a request hangs).
 */
export function webhookHandlers(ctx: AppContext): Array<RequestHandler | ErrorRequestHandler> {
  const { metrics, logger } = ctx;
  const count = (outcome: WebhookOutcome) => metrics.webhookRequests.inc({ outcome });
  const plannerConfig = { targets: new Set(ctx.manager.names()), resolved: ctx.config.webhook.resolved };
  const unauthorizedLog = sampledWarn(logger, ctx.clock, 'webhook request rejected');

  const reject = (res: express.Response, status: number, outcome: WebhookOutcome, body: Record<string, unknown>) => {
    count(outcome);
    logger.warn('webhook request rejected', { status, outcome, error: body.error });
    sendJson(res, status, body);
  };

  const gate: RequestHandler = (req, res, next) => {
    if (ctx.draining()) {
      res.set('Retry-After', '5');
      reject(res, 503, 'unavailable', { error: 'shutting_down', message: 'the receiver is shutting down; retry' });
      return;
    }
    if (!isJsonMediaType(req.headers['content-type'])) {
      reject(res, 415, 'unsupported_media_type', { error: 'unsupported_media_type', message: 'Content-Type must be application/json' });
      return;
    }
    next();
  };

  const handle: RequestHandler = async (req, res) => {
    const checked = checkPayload(req.body);
    if (!checked.ok) {
      reject(res, 400, 'invalid', { error: 'invalid_payload', message: 'not an Alertmanager webhook (version 4) body', errors: checked.errors });
      return;
    }
    const payload = checked.payload;
    for (const alert of payload.alerts) {
      metrics.alertsReceived.inc({ alertname: alertnameValue(alert.labels.alertname), status: alert.status });
    }

    const plan = planNotification(payload, plannerConfig);
    const now = ctx.clock.now();
    for (const ignored of plan.ignored) {
      metrics.alertsIgnored.inc({ reason: ignored.reason });
      if (!ctx.ignoredLog.has(ignored.dedupeKey, now)) {
        ctx.ignoredLog.remember(ignored.dedupeKey, '', now);
        logger.info('alert ignored', { alertname: ignored.alertname, fingerprint: ignored.fingerprint, reason: ignored.reason });
      }
    }
    let duplicates = 0;
    const fresh = plan.intents.filter((intent) => {
      if (!ctx.dedupe.has(intent.dedupeKey, now)) return true;
      duplicates += 1;
      metrics.actions.inc({ target: intent.target, action: intent.action, result: 'noop' });
      return false;
    });

    if (fresh.length > 0 && !ctx.dryRun) {
      try {
        await ctx.docker.ping();
      } catch (err) {
        if (err instanceof DockerUnavailableError) {
          res.set('Retry-After', '10');
          reject(res, 503, 'unavailable', { error: 'docker_unavailable', message: 'the Docker engine cannot be reached; retry' });
          return;
        }
        // The engine answered (e.g. a proxy that forbids /_ping): the actions themselves will tell.
      }
    }

    const actions: Array<{ target: string; action: LifecycleAction; disposition: Disposition; reason?: string }> = [];
    for (const stop of plan.superseded) {
      metrics.actions.inc({ target: stop.target, action: stop.action, result: 'suppressed' });
      logger.info('stop dropped: a start for the same target came in the same notification', {
        target: stop.target,
        alertname: stop.alertname,
      });
      actions.push({ target: stop.target, action: stop.action, disposition: 'suppressed', reason: 'start_wins' });
    }
    try {
      for (const intent of fresh) {
        const submitted = ctx.manager.submit(intent.target, intent.action, { origin: 'alert' });
        // Remembered as done only while it is not suppressed: a stop held back by the minimum running time or
        // the cooldown must act on the first delivery after the guard, not after the dedupe window.
        if (submitted.disposition !== 'suppressed') {
          ctx.dedupe.remember(intent.dedupeKey, intent.target, now);
          void submitted.outcome.then((outcome) => {
            if (outcome.result === 'suppressed') ctx.dedupe.forget(intent.dedupeKey);
          });
        }
        actions.push({ target: intent.target, action: intent.action, disposition: submitted.disposition, reason: submitted.reason });
      }
    } catch (err) {
      if (!(err instanceof ShuttingDownError)) throw err;
      res.set('Retry-After', '5');
      reject(res, 503, 'unavailable', { error: 'shutting_down', message: 'the receiver is shutting down; retry' });
      return;
    }

    count('accepted');
    sendJson(res, actions.some((a) => a.disposition === 'queued') ? 202 : 200, {
      status: 'accepted',
      dryRun: ctx.dryRun,
      actions,
      duplicates,
      ignored: plan.ignored.map((i) => ({ alertname: i.alertname, fingerprint: i.fingerprint, reason: i.reason })),
    });
  };

  const errors: ErrorRequestHandler = (err, _req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const answer = answerForBodyError(err);
    if (answer.status >= 500) logger.error('webhook request failed', { error: err });
    reject(res, answer.status, answer.outcome, { error: answer.error, message: answer.message });
  };

  return [
    requireAuth(ctx.authCheck, () => {
      count('unauthorized');
      unauthorizedLog({ status: 401, outcome: 'unauthorized' });
    }),
    gate,
    express.json({ limit: ctx.config.webhook.bodyLimitBytes, type: () => true, verify: refuseComplexJson }),
    handle,
    errors,
  ];
}
