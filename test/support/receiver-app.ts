import { Registry } from 'prom-client';
import request from 'supertest';
import { createApp, type AppDeps, type ReceiverApp } from '../../receiver/src/app';
import type { Clock } from '../../receiver/src/clock';
import { systemClock } from '../../receiver/src/clock';
import { parseConfig } from '../../receiver/src/config/load';
import { createJsonLogger } from '../../receiver/src/logger';
import { FakeDocker } from './fake-docker';
import { ManualClock } from './manual-clock';

export const TEST_TOKEN = 'test-token-0123456789';

/** YAML for a receiver with fast readiness ("running") and no timing guards unless a test sets them. */
export const TEST_CONFIG_YAML = `
targets:
  ollama:
    members: [{container: ollama}, {container: sqlite-ai}]
    readiness: {type: running}
    min_running_seconds: 0
    cooldown_seconds: 0
    stop_timeout_seconds: 3
  embeddings:
    members: [{compose: {project: ai, service: embeddings}}]
    readiness: {type: running}
    min_running_seconds: 0
    cooldown_seconds: 0
`;

export interface TestReceiver extends ReceiverApp {
  docker: FakeDocker;
  registry: Registry;
  logLines: string[];
  logs(): Array<Record<string, unknown>>;
  metricValue(name: string, labels?: Record<string, string>): Promise<number>;
}

export function buildTestReceiver(
  options: { yaml?: string; docker?: FakeDocker; clock?: Clock; dryRun?: boolean; token?: string } & Partial<AppDeps> = {},
): TestReceiver {
  const docker = options.docker ?? new FakeDocker().add('ollama').add('sqlite-ai').addCompose('ai', 'embeddings');
  const registry = new Registry();
  const logLines: string[] = [];
  const token = options.token ?? TEST_TOKEN;
  const built = createApp({
    config: options.config ?? parseConfig(options.yaml ?? TEST_CONFIG_YAML),
    registry,
    docker,
    logger: createJsonLogger({ level: 'debug', write: (line) => logLines.push(line), secrets: [token] }),
    clock: options.clock ?? systemClock,
    token,
    dryRun: options.dryRun,
    version: '0.0.0-test',
  });
  return {
    ...built,
    docker,
    registry,
    logLines,
    logs: () => logLines.map((l) => JSON.parse(l) as Record<string, unknown>),
    async metricValue(name, labels = {}) {
      const metric = registry.getSingleMetric(name);
      if (metric === undefined) throw new Error(`no metric ${name}`);
      const data = await metric.get();
      const matching = data.values.filter((v) =>
        Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want),
      );
      return matching.reduce((sum, v) => sum + v.value, 0);
    },
  };
}

/** Waits until every queued action of every target has finished. */
export async function settled(receiver: ReceiverApp, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (receiver.manager.views().some((v) => v.inFlight !== null || v.queued !== null)) {
    if (Date.now() > deadline) throw new Error('actions did not settle');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** The ollama target (members ollama and sqlite-ai) with its timing guards on: 10 min minimum running time, 60 s cooldown. */
export const guardedYaml = (extra = '') => `
targets:
  ollama:
    members: [{container: ollama}, {container: sqlite-ai}]
    readiness: {type: running}
    min_running_seconds: 600
    cooldown_seconds: 60
${extra}`;

/**
 * A test receiver (guardedYaml() unless given) on a FakeDocker with ollama and sqlite-ai, both stopped unless
 * `running`, whose container times come from the same clock (a ManualClock unless given); hook() posts a webhook body.
 */
export function buildClockedReceiver(options: { running?: boolean; yaml?: string; clock?: Clock } = {}) {
  const clock = options.clock ?? new ManualClock();
  const docker = new FakeDocker()
    .add('ollama', { running: options.running ?? false })
    .add('sqlite-ai', { running: options.running ?? false });
  docker.now = () => new Date(clock.now());
  const r = buildTestReceiver({ docker, clock, yaml: options.yaml ?? guardedYaml() });
  const hook = (body: object) => request(r.app).post('/webhook/alertmanager').set('Authorization', `Bearer ${TEST_TOKEN}`).send(body);
  return { r, docker, clock, hook };
}
