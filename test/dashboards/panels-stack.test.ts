/**
 * Every panel query against the live stack users run (`npm run stack`'s own code: real Prometheus with
 * rules/*.yml, real Alertmanager, the compiled receiver, the stand-in exporter), in fast mode with short
 * periods and the receiver in dry-run (no Docker engine here). The lifecycle alerts go round the loop
 * once (start, then idle stop); panels whose data only exists in states this stack does not reach are
 * listed with the reason (panels-not-reached.ts, shared with the end-to-end loop), and must then really be
 * empty (so the list cannot go stale).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { down } from '../../scripts/stack/down';
import type { StackState } from '../../scripts/stack/state';
import { up } from '../../scripts/stack/up';
import { keepBusy } from '../../scripts/harness/gateway-traffic';
import { ensureReceiverBuilt } from '../../scripts/harness/build';
import { eventually } from '../../scripts/harness/eventually';
import { allTargets, type VariableValues } from './dashboard-files';
import { hasNumber, runTarget } from './panel-queries';
import { DRY_RUN_NOT_REACHED } from './panels-not-reached';

jest.setTimeout(60_000);

/** "<dashboard file> / <panel title> / <refId>" -> why it has no data in this stack. */
const NOT_REACHED = DRY_RUN_NOT_REACHED;

let dir: string;
let stack: StackState | undefined;
let values: VariableValues;
let startSeconds: number;

async function setValues(changes: Record<string, number>): Promise<void> {
  const res = await fetch(`${stack!.urls.standInExporter}/values`, { method: 'POST', body: JSON.stringify(changes) });
  expect(res.status).toBe(200);
}

async function receiverCounter(name: string, label: string): Promise<number> {
  const text = await (await fetch(`${stack!.urls.receiver}/metrics`)).text();
  return [...text.matchAll(new RegExp(`^${name}\\{[^}]*${label}[^}]*\\} (\\S+)$`, 'gm'))].reduce((sum, m) => sum + Number(m[1]), 0);
}

beforeAll(async () => {
  ensureReceiverBuilt();
  startSeconds = Math.floor(Date.now() / 1000);
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dashboards-stack-'));
  stack = await up({
    dir, fast: true, dryRun: true, privateDocker: false, container: 'ollama-dashboards-stand-in', anyPorts: true,
    standInNode: true,
    shortPeriods: { lifecycleForSeconds: 1, idlePeriodSeconds: 5, requestWindowSeconds: 3 },
    log: () => undefined,
  });
  const receiverAddress = new URL(stack.urls.receiver).host;
  values = { job: 'ai-dispatcher', instance: receiverAddress, target: '.+', rateInterval: '4s', interval: '1s', range: '1m' };

  // Requests flow through the gateway (its series are what the Ollama panels show) and AI work is pending:
  // PendingAIWorkflows -> Alertmanager -> receiver (dry-run start).
  const traffic = keepBusy(stack.urls.gateway);
  await setValues({ n8n_queue_jobs_waiting: 1 });
  await eventually('a dry-run start from PendingAIWorkflows', async () => (await receiverCounter('ai_dispatcher_actions_total', 'action="start"')) > 0, 20_000, 200);
  // Work done, Ollama idle: AIServicesIdleTooLong -> dry-run stop.
  await traffic.stop();
  await setValues({ n8n_queue_jobs_waiting: 0 });
  await eventually('a dry-run stop from AIServicesIdleTooLong', async () => (await receiverCounter('ai_dispatcher_actions_total', 'action="stop"')) > 0, 25_000, 200);
  await new Promise((r) => setTimeout(r, 3000));
}, 90_000);

afterAll(async () => {
  const leftovers = stack ? await down(dir, () => undefined) : [];
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
  expect(leftovers).toEqual([]);
}, 60_000);

const targets = allTargets();

test('the not-reached list names only existing targets', () => {
  const labels = new Set(targets.map((t) => t.label));
  expect(Object.keys(NOT_REACHED).filter((label) => !labels.has(label))).toEqual([]);
});

test.each(targets.map((t) => [t.label, t] as const))('%s', async (label, t) => {
  const data = hasNumber(await runTarget(stack!.urls.prometheus, t, values, startSeconds));
  expect({ label, data, reason: NOT_REACHED[label] }).toEqual({ label, data: !NOT_REACHED[label], reason: NOT_REACHED[label] });
});
