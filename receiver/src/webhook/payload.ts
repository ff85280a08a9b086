import Ajv, { type ErrorObject } from 'ajv';

/** Alertmanager webhook body, version 4. Unknown fields are allowed: newer Alertmanagers add some. */
export interface WebhookAlert {
  status: 'firing' | 'resolved';
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
  status: 'firing' | 'resolved';
  alerts: WebhookAlert[];
  groupLabels: Record<string, string>;
  commonLabels: Record<string, string>;
  commonAnnotations: Record<string, string>;
  externalURL: string;
  groupKey: string;
  truncatedAlerts?: number;
}

const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
const status = { enum: ['firing', 'resolved'] } as const;

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
    alerts: { type: 'array', items: alertSchema },
    groupLabels: stringMap,
    commonLabels: stringMap,
    commonAnnotations: stringMap,
    externalURL: { type: 'string' },
    groupKey: { type: 'string' },
    truncatedAlerts: { type: 'integer', minimum: 0 },
  },
  required: ['version', 'receiver', 'status', 'alerts', 'groupLabels', 'commonLabels', 'commonAnnotations', 'externalURL', 'groupKey'],
} as const;

const ajv = new Ajv({ allErrors: true, strict: true });
/** A hostile body can hold thousands of problems: the answer lists the first ones. */
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
