import { planNotification, type PlannerConfig } from '../../../receiver/src/intake/planner';
import type { WebhookAlert, WebhookPayload } from '../../../receiver/src/webhook/payload';

const config: PlannerConfig = { targets: new Set(['ollama', 'embeddings']), resolved: 'ignore' };

function alert(labels: Record<string, string>, status: 'firing' | 'resolved' = 'firing', fingerprint = 'f1'): WebhookAlert {
  return {
    status,
    labels: { alertname: 'PendingAIWorkflows', ...labels },
    annotations: {},
    startsAt: '2026-11-25T20:53:25.276Z',
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: '',
    fingerprint,
  };
}

function payload(...alerts: WebhookAlert[]): WebhookPayload {
  return {
    version: '4',
    receiver: 'ai',
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    alerts,
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: '',
    groupKey: '{}',
  };
}

const start = { ai_dispatcher_action: 'start', ai_dispatcher_target: 'ollama' };
const stop = { ai_dispatcher_action: 'stop', ai_dispatcher_target: 'ollama' };

describe('planNotification: one alert', () => {
  test.each([
    ['firing start on a configured target', alert(start), 'ignore', [['ollama', 'start']], []],
    ['firing stop on a configured target', alert(stop), 'ignore', [['ollama', 'stop']], []],
    ['resolved start, default handling', alert(start, 'resolved'), 'ignore', [], ['resolved']],
    ['resolved stop, default handling', alert(stop, 'resolved'), 'ignore', [], ['resolved']],
    ['resolved start with resolved: reverse', alert(start, 'resolved'), 'reverse', [['ollama', 'stop']], []],
    ['resolved stop with resolved: reverse', alert(stop, 'resolved'), 'reverse', [['ollama', 'start']], []],
    ['unknown target group', alert({ ...start, ai_dispatcher_target: 'postgres' }), 'ignore', [], ['unknown_target']],
    ['a container name is not a target', alert({ ...start, ai_dispatcher_target: 'sqlite-ai' }), 'ignore', [], ['unknown_target']],
    ['unknown action', alert({ ...start, ai_dispatcher_action: 'restart' }), 'ignore', [], ['unknown_action']],
    ['action in another case', alert({ ...start, ai_dispatcher_action: 'START' }), 'ignore', [], ['unknown_action']],
    ['no action label', alert({ ai_dispatcher_target: 'ollama' }), 'ignore', [], ['missing_labels']],
    ['no target label', alert({ ai_dispatcher_action: 'start' }), 'ignore', [], ['missing_labels']],
    ['prototype labels of the fixtures', alert({ action: 'start_ai_services', ai_lifecycle: 'true' }), 'ignore', [], ['missing_labels']],
  ] as const)('%s', (_name, a, resolved, intents, ignored) => {
    const plan = planNotification(payload(a), { ...config, resolved });
    expect(plan.intents.map((i) => [i.target, i.action])).toEqual(intents);
    expect(plan.ignored.map((i) => i.reason)).toEqual(ignored);
    expect(plan.superseded).toEqual([]);
  });
});

describe('planNotification: several alerts in one notification', () => {
  test('a start and a stop for one target: the start wins, whatever the order', () => {
    for (const alerts of [
      [alert(stop, 'firing', 'a'), alert(start, 'firing', 'b')],
      [alert(start, 'firing', 'b'), alert(stop, 'firing', 'a')],
    ]) {
      const plan = planNotification(payload(...alerts), config);
      expect(plan.intents.map((i) => [i.target, i.action])).toEqual([['ollama', 'start']]);
      expect(plan.superseded.map((i) => [i.target, i.action, i.fingerprint])).toEqual([['ollama', 'stop', 'a']]);
    }
  });

  test('two starts for one target become one intent', () => {
    const plan = planNotification(payload(alert(start, 'firing', 'a'), alert(start, 'firing', 'b')), config);
    expect(plan.intents).toHaveLength(1);
    expect(plan.superseded).toEqual([]);
  });

  test('different targets each get their own intent; ignored ones are listed beside them', () => {
    const plan = planNotification(
      payload(
        alert(start, 'firing', 'a'),
        alert({ ai_dispatcher_action: 'stop', ai_dispatcher_target: 'embeddings' }, 'firing', 'b'),
        alert({ ...start, ai_dispatcher_target: 'nope' }, 'firing', 'c'),
      ),
      config,
    );
    expect(plan.intents.map((i) => [i.target, i.action])).toEqual([
      ['ollama', 'start'],
      ['embeddings', 'stop'],
    ]);
    expect(plan.ignored.map((i) => [i.fingerprint, i.reason])).toEqual([['c', 'unknown_target']]);
  });

  test('an empty alert list plans nothing', () => {
    expect(planNotification(payload(), config)).toEqual({ intents: [], superseded: [], ignored: [] });
  });
});

describe('planNotification: dedupe keys', () => {
  test('the same alert delivered twice has the same key; another start time or status does not', () => {
    const first = planNotification(payload(alert(start)), config).intents[0];
    const again = planNotification(payload(alert(start)), config).intents[0];
    const later = planNotification(payload({ ...alert(start), startsAt: '2026-11-25T21:00:00Z' }), config).intents[0];
    const reversed = planNotification(payload(alert(start, 'resolved')), { ...config, resolved: 'reverse' }).intents[0];
    expect(again.dedupeKey).toBe(first.dedupeKey);
    expect(later.dedupeKey).not.toBe(first.dedupeKey);
    expect(reversed.dedupeKey).not.toBe(first.dedupeKey);
  });
});
