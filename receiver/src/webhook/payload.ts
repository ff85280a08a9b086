import Ajv, { type ErrorObject } from 'ajv';
import type { JsonShapeLimits } from './json-shape';

/** An alert's and a notification's status; also the values of ai_dispatcher_alerts_received_total{status}. */
export const ALERT_STATUSES = ['firing', 'resolved'] as const;
type AlertStatus = (typeof ALERT_STATUSES)[number];

/** Alertmanager webhook body, version 4. Unknown fields are allowed: newer Alertmanagers add some. */
export interface WebhookAlert {
  status: AlertStatus;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt: string;
  generatorURL: string;
  fingerprint: string;
}

export interface WebhookPayload {
  version: '4';
  receiver: string;
  status: AlertStatus;
  alerts: WebhookAlert[];
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  groupKey: string;
  truncatedAlerts?: number;
}

/**
 * Alerts per notification: Alertmanager's webhook `max_alerts` (rules/alertmanager/alertmanager.yml sends at
 * most this many and counts the rest in truncatedAlerts). A bigger array is refused before its items are read.
 */
export const MAX_ALERTS = 1000;

/**
 * What JSON.parse may be asked to build from a webhook body (json-shape.ts): an Alertmanager body has depth 4
 * and about 25 values per alert, so 100,000 values leave 4x room at MAX_ALERTS alerts.
 */
export const WEBHOOK_JSON_LIMITS: JsonShapeLimits = { maxDepth: 32, maxPerContainer: MAX_ALERTS, maxValues: 100_000 };

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
const status = { enum: ALERT_STATUSES } as const;

const alertSchema = {
  type: 'object',
  properties: {
    status,
    labels: stringMap,
    annotations: stringMap,
    startsAt: { type: 'string' },
    endsAt: { type: 'string' },
    generatorURL: { type: 'string' },
    fingerprint: { type: 'string' },
  },
  required: ['status', 'labels', 'annotations', 'startsAt', 'endsAt', 'generatorURL', 'fingerprint'],
} as const;

export const webhookSchema = {
  type: 'object',
  properties: {
    version: { const: '4' },
    receiver: { type: 'string' },
    status,
    alerts: { type: 'array', maxItems: MAX_ALERTS, items: alertSchema },
    groupLabels: stringMap,
    commonLabels: stringMap,
    commonAnnotations: stringMap,
    externalURL: { type: 'string' },
    groupKey: { type: 'string' },
    truncatedAlerts: { type: 'integer', minimum: 0 },
  },
  required: ['version', 'receiver', 'status', 'alerts', 'groupLabels', 'commonLabels', 'commonAnnotations', 'externalURL', 'groupKey'],
} as const;

// Not allErrors: a 1 MiB body of 340,000 empty alerts held 2.4 million error objects (2-3 s of event loop,
// ~350 MB). Validation stops at the first problem, and the array's size is checked before its items.
const ajv = new Ajv({ allErrors: false, strict: true });
/** At most this many problems are reported (one, while validation stops at the first). */
export const MAX_REPORTED_ISSUES = 20;
const validate = ajv.compile<WebhookPayload>(webhookSchema);

export interface ValidationIssue {
  path: string;
  message: string;
}

export type PayloadCheck = { ok: true; payload: WebhookPayload } | { ok: false; errors: ValidationIssue[] };

export function checkPayload(body: unknown): PayloadCheck {
  if (validate(body)) return { ok: true, payload: body };
  return { ok: false, errors: (validate.errors ?? []).slice(0, MAX_REPORTED_ISSUES).map(toIssue) };
}

function toIssue(e: ErrorObject): ValidationIssue {
  return { path: e.instancePath === '' ? '/' : e.instancePath, message: e.message ?? 'is invalid' };
}
