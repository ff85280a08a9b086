/**
 * `npm run stack` without a reachable Docker engine: it says DRY-RUN, the loop still runs through the real
 * Prometheus and Alertmanager to the receiver, which counts what it would do; a second `up` refuses, and
 * `down` leaves no process running.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { down } from '../../scripts/stack/down';
import { isOurs, readPidRecords } from '../../scripts/stack/processes';
import type { StackState } from '../../scripts/stack/state';
import { up } from '../../scripts/stack/up';
import { eventually, metricSum } from '../e2e/apis';
import { ensureReceiverBuilt } from '../e2e/build';

let dir: string;
let stack: StackState | undefined;
const output: string[] = [];

beforeAll(async () => {
  ensureReceiverBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-dry-'));
  stack = await up({
    dir, fast: true, dryRun: false, privateDocker: false, container: 'never-touched', anyPorts: true,
    dockerHost: `unix://${path.join(dir, 'no-engine.sock')}`, standInNode: true,
    shortPeriods: { lifecycleForSeconds: 1, idlePeriodSeconds: 5, requestWindowSeconds: 3 },
    log: (line) => output.push(line),
  });
}, 90_000);

afterAll(async () => {
  if (dir) {
    await down(dir, () => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

describe('npm run stack without a Docker engine', () => {
  it('says clearly that the receiver runs in dry-run, and why', async () => {
    expect(output.join('\n')).toMatch(/Docker +DRY-RUN: no Docker engine answers at unix:\/\/.*no-engine\.sock; the receiver logs and counts what it would do/);
    expect(stack!.dryRun).toBe(true);
    const token = fs.readFileSync(stack!.tokenFile, 'utf8').trim();
    const targets = await (await fetch(`${stack!.urls.receiver}/api/v1/targets`, { headers: { Authorization: `Bearer ${token}` } })).json();
    expect(targets).toMatchObject({ dryRun: true });
  });

  it('still runs the alert path: pending work reaches the receiver, which only counts a dry-run start', async () => {
    await fetch(`${stack!.urls.standInExporter}/values`, { method: 'POST', body: JSON.stringify({ n8n_queue_jobs_waiting: 1 }) });
    await eventually('a dry-run start', 30_000, async () => {
      const metrics = await (await fetch(`${stack!.urls.receiver}/metrics`)).text();
      return metricSum(metrics, 'ai_dispatcher_actions_total', { target: 'ollama', action: 'start', result: 'dry_run' }) >= 1;
    });
  }, 40_000);

  it('refuses a second stack in the same folder', async () => {
    await expect(up({ dir, fast: true, dryRun: true, privateDocker: false, container: 'x', anyPorts: true, log: () => undefined }))
      .rejects.toThrow(/already runs .* npm run stack:down first/);
  });

  it('stack:down stops every process it started', async () => {
    const records = readPidRecords(dir);
    expect(records.map((r) => r.name).sort()).toEqual(['alertmanager', 'node-exporter', 'prometheus', 'receiver', 'standin-exporter']);
    expect(records.every(isOurs)).toBe(true);
    expect(await down(dir, () => undefined)).toEqual([]);
    expect(records.filter(isOurs)).toEqual([]);
    expect(readPidRecords(dir)).toEqual([]);
    await expect(fetch(`${stack!.urls.prometheus}/-/ready`)).rejects.toThrow();
  }, 60_000);
});
