import type { ErrorRequestHandler } from 'express';
import type { Logger } from '../logger';
import { answerForBodyError } from './body-errors';
import type { WebhookRejecter } from './webhook-route';

/**
 * The app's one error handler: whatever a route or a body parser passes on becomes a JSON answer here, never a
 * 500 for bad input (an error that carries a 4xx, e.g. a path that does not URL-decode, is the client's). A
 * webhook request's error is answered as the webhook answers its refusals (counted by outcome, with a message).
 */
export function appErrorHandler(logger: Logger, rejectWebhook: WebhookRejecter): ErrorRequestHandler {
  return (err, req, res, next) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const answer = answerForBodyError(err);
    if (res.locals.webhook === true) {
      if (answer.status >= 500) logger.error('webhook request failed', { error: err });
      rejectWebhook(res, answer.status, answer.outcome, { error: answer.error, message: answer.message });
      return;
    }
    if (answer.status < 500) {
      logger.warn('request rejected', { status: answer.status, method: req.method, error: (err as Error).message });
      res.status(answer.status).json({ error: 'bad_request' });
      return;
    }
    logger.error('request failed', { error: err });
    res.status(500).json({ error: 'internal_error' });
  };
}
