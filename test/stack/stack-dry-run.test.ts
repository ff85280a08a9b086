/**
 * `npm run stack` as a user runs it, without a reachable Docker engine: it says DRY-RUN, the loop still runs
 * through the real Prometheus and Alertmanager to the receiver, which counts what it would do; a second
 * `npm run stack` refuses, and `npm run stack:down` leaves no process running.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { down } from '../../scripts/stack/down';
import { isOurs, readPidRecords } from '../../scripts/stack/processes';
import { readStackState, type StackState } from '../../scripts/stack/state';
import { eventually } from '../../scripts/harness/eventually';
import { metricSum } from '../e2e/apis';
import { ensureReceiverBuilt } from '../../scripts/harness/build';

const root = path.join(__dirname, '../..');
let dir: string;
let stack: StackState;
let upOutput: string;

/** npm run stack / stack:down with the user's environment, except a Docker host nobody answers on. */
function npmRun(script: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync('npm', ['run', '--silent', script, '--', ...args], {
    cwd: root, encoding: 'utf8', timeout: 90_000,
    // The receiver is built once for all suites (ensureReceiverBuilt): the stack's own build would race with it.
    env: { ...process.env, DOCKER_HOST: `unix://${path.join(dir, 'no-engine.sock')}`, AI_DISPATCHER_STACK_SKIP_BUILD: '1', ...env },
  });
}
const demoArgs = () => ['--fast', '--short-periods', '--stand-in-node', '--free-ports', '--dir', dir];

beforeAll(() => {
  ensureReceiverBuilt();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-dry-'));
  const res = npmRun('stack', demoArgs());
  upOutput = res.stdout + res.stderr;
  if (res.status !== 0) throw new Error(`npm run stack failed (${res.status}):\n${upOutput}`);
  stack = readStackState(dir)!;
}, 100_000);

afterAll(async () => {
  if (dir) {
    await down(dir, () => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}, 60_000);

describe('npm run stack without a Docker engine', () => {
  it('returns once ready, prints the URLs and the recommendation, and says clearly that the receiver runs in dry-run', async () => {
    expect(upOutput).toMatch(/Docker +DRY-RUN: no Docker engine answers at unix:\/\/.*no-engine\.sock; the receiver logs and counts what it would do/);
    for (const url of Object.values(stack.urls).filter((u) => !u.includes('11434'))) expect(upOutput).toContain(url);
    expect(upOutput).toMatch(/current recommendation[\s\S]*high +analysis +\S+ +\S+/);
    // The wait for the first recommendation says what it waits for.
    expect(upOutput).toMatch(/first recommendation: waiting until Prometheus has every host input \(CPU utilisation needs two scrapes, 1 s apart\) and has evaluated the rules; at most 14 s/);
    expect(stack.dryRun).toBe(true);
    const token = fs.readFileSync(stack.tokenFile, 'utf8').trim();
    const targets = (await (await fetch(`${stack.urls.receiver}/api/v1/targets`, { headers: { Authorization: `Bearer ${token}` } })).json()) as { targets: Array<{ members: unknown }> };
    expect(targets).toMatchObject({ dryRun: true });
    // The configured member, its state unknown without an engine.
    expect(targets.targets[0].members).toEqual([{ ref: { kind: 'container', name: stack.container }, exists: null, running: null, health: null }]);
  });

  it('still runs the alert path: pending work reaches the receiver, which only counts a dry-run start', async () => {
    await fetch(`${stack.urls.standInExporter}/values`, { method: 'POST', body: JSON.stringify({ n8n_queue_jobs_waiting: 1 }) });
    await eventually('a dry-run start', async () => {
      const metrics = await (await fetch(`${stack.urls.receiver}/metrics`)).text();
      return metricSum(metrics, 'ai_dispatcher_actions_total', { target: 'ollama', action: 'start', result: 'dry_run' }) >= 1;
    }, 30_000, 200);
  }, 40_000);

  it('refuses a second stack in the same folder before it rebuilds the running receiver', () => {
    const built = path.join(root, 'dist/receiver/src/cli.js');
    const before = fs.statSync(built).mtimeMs;
    const res = npmRun('stack', ['--free-ports', '--dir', dir], { AI_DISPATCHER_STACK_SKIP_BUILD: '' });
    expect(res.status).not.toBe(0);
    expect(res.stdout + res.stderr).toMatch(/already runs .* npm run stack:down first/);
    expect(res.stdout + res.stderr).not.toContain('building the receiver');
    expect(fs.statSync(built).mtimeMs).toBe(before);
  }, 60_000);

  it('npm run stack:down stops every process it started', async () => {
    const records = readPidRecords(dir);
    expect(records.map((r) => r.name).sort()).toEqual(['alertmanager', 'gateway', 'node-exporter', 'ollama-standin', 'prometheus', 'receiver', 'standin-exporter']);
    expect(records.every(isOurs)).toBe(true);
    const res = npmRun('stack:down', ['--dir', dir]);
    expect(res.status).toBe(0);
    expect(res.stdout).toContain('stack stopped');
    expect(records.filter(isOurs)).toEqual([]);
    expect(readPidRecords(dir)).toEqual([]);
    await expect(fetch(`${stack.urls.prometheus}/-/ready`)).rejects.toThrow();
  }, 60_000);

  it('a new stack in the same folder does not see the previous run\'s samples', async () => {
    const began = Date.now();
    const res = npmRun('stack', demoArgs());
    if (res.status !== 0) throw new Error(`npm run stack failed (${res.status}):\n${res.stdout}${res.stderr}`);
    const again = readStackState(dir)!;
    const tsdb = (await (await fetch(`${again.urls.prometheus}/api/v1/status/tsdb`)).json()) as { data: { headStats: { minTime: number } } };
    // The oldest sample Prometheus holds is from this run (the previous run's would be replayed from its WAL).
    expect(tsdb.data.headStats.minTime).toBeGreaterThanOrEqual(began);
  }, 100_000);
});
