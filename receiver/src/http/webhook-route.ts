import express, { type RequestHandler, type Response } from 'express';
import type { IntakeResult } from '../intake/alert-intake';
import type { WebhookOutcome } from '../metrics';
import { jsonShapeProblem } from '../webhook/json-shape';
import { WEBHOOK_JSON_LIMITS } from '../webhook/payload';
import { requireAuth, sampledWarn } from './auth';
import { isJsonMediaType } from './body-errors';
import type { AppContext } from './context';
import { sendJson } from './send-json';
import { UNAVAILABLE_MESSAGES } from './unavailable';

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

/** Counts and logs a refused webhook request, and answers it. */
export type WebhookRejecter = (res: Response, status: number, outcome: WebhookOutcome, body: Record<string, unknown>) => void;

/**
 * The handler chain of POST /webhook/alertmanager (registered on the app itself: it is the hot path). The intake
 * (intake/alert-intake.ts) decides; this maps its result to an answer as soon as the actions are handed to the
 * target manager: 202 when something was queued, 200 when there was nothing to do; the start and its readiness
 * wait go on in the background (Alertmanager 0.25 has no webhook timeout and re-sends while a request hangs).
 * Errors (a body the parser refuses, a failure) go to the app's error handler, which answers through `reject`.
 */
export function webhookHandlers(ctx: AppContext, reject: WebhookRejecter): RequestHandler[] {
  const { metrics, logger } = ctx;
  const unauthorizedLog = sampledWarn(logger, ctx.clock, 'webhook request rejected');

  const gate: RequestHandler = (req, res, next) => {
    // The app's error handler answers this request's errors as the webhook's (counted, logged, JSON with a message).
    res.locals.webhook = true;
    if (ctx.draining()) {
      res.set('Retry-After', '5');
      reject(res, 503, 'unavailable', { error: 'shutting_down', message: UNAVAILABLE_MESSAGES.shutting_down });
      return;
    }
    if (!isJsonMediaType(req.headers['content-type'])) {
      reject(res, 415, 'unsupported_media_type', { error: 'unsupported_media_type', message: 'Content-Type must be application/json' });
      return;
    }
    next();
  };

  const handle: RequestHandler = async (req, res) => {
    answer(res, await ctx.intake.take(req.body), reject, () => metrics.webhookRequests.inc({ outcome: 'accepted' }));
  };

  return [
    requireAuth(ctx.authCheck, () => {
      metrics.webhookRequests.inc({ outcome: 'unauthorized' });
      unauthorizedLog({ status: 401, outcome: 'unauthorized' });
    }),
    gate,
    express.json({ limit: ctx.config.webhook.bodyLimitBytes, type: () => true, verify: refuseComplexJson }),
    handle,
  ];
}

/** The intake's result as an HTTP answer. */
function answer(res: Response, result: IntakeResult, reject: WebhookRejecter, countAccepted: () => void): void {
  switch (result.outcome) {
    case 'accepted':
      countAccepted();
      sendJson(res, result.notification.actions.some((a) => a.disposition === 'queued') ? 202 : 200, result.notification);
      return;
    case 'invalid':
      reject(res, 400, 'invalid', { error: 'invalid_payload', message: 'not an Alertmanager webhook (version 4) body', errors: result.errors });
      return;
    case 'unavailable':
      res.set('Retry-After', result.error === 'docker_unavailable' ? '10' : '5');
      reject(res, 503, 'unavailable', { error: result.error, message: UNAVAILABLE_MESSAGES[result.error] });
      return;
  }
}

/** Counts, logs and sends a refused webhook request: the route's refusals and the app's error handler use it. */
export function webhookRejecter(ctx: Pick<AppContext, 'metrics' | 'logger'>): WebhookRejecter {
  return (res, status, outcome, body) => {
    ctx.metrics.webhookRequests.inc({ outcome });
    ctx.logger.warn('webhook request rejected', { status, outcome, error: body.error });
    sendJson(res, status, body);
  };
}
