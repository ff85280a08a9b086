/**
 * `ai-dispatcher report` against a live Prometheus fed with a known history (promtool backfill): the
 * figures equal the ones computed from the history itself, the suggestions carry their numbers, the
 * HTML opens in headless Chromium with every chart drawn, and bad input gets a clear error.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { buildReport } from '../../receiver/src/report/build-report';
import type { ReportFigures } from '../../receiver/src/report/figures';
import { createPrometheusClient } from '../../receiver/src/report/prometheus-client';
import { windowEndingAt } from '../../receiver/src/report/timeline';
import { backfill } from '../../scripts/harness/backfill';
import { freePort } from '../../scripts/harness/free-port';
import { decodePng } from '../support/png';
import { REPO_ROOT, startPrometheus, type PrometheusServer } from '../../scripts/harness/prometheus';
import { DAY, scenario, STEP, type Scenario } from './history';

const run = promisify(execFile);
const GIB = 2 ** 30;
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';

let dir: string;
let prom: PrometheusServer;
let history: Scenario;
/** Start of an older day with only the target and branch series (the gateway was not scraped then). */
let oldStart: number;

async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['tsx', 'receiver/src/cli.ts', 'report', ...args], { cwd: REPO_ROOT, maxBuffer: 64 * 2 ** 20 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ai-dispatcher-report-'));
  const start = Math.floor(Date.now() / 1000 / DAY) * DAY - 3 * DAY;
  history = scenario(start);
  oldStart = start - 10 * DAY;
  const oldTimes: number[] = [];
  for (let t = oldStart; t <= oldStart + DAY; t += STEP) oldTimes.push(t);
  backfill(path.join(dir, 'data'), [
    ...history.series,
    { name: 'target:ai_dispatcher_target_running:max', labels: { target: 'ollama' }, points: oldTimes.map((t) => [t, 1]) },
    { name: 'priority:ai_recommended_model:count', labels: { priority: 'optimal_performance' }, points: oldTimes.map((t) => [t, 6]) },
  ]);
  prom = await startPrometheus({ dataDir: path.join(dir, 'data') });
}, 120_000);

afterAll(async () => {
  await prom?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('figures from a known history', () => {
  let figures: ReportFigures;
  beforeAll(async () => {
    ({ figures } = await buildReport(createPrometheusClient(prom.url), windowEndingAt(history.end, 2 * DAY)));
  });

  it('reads the whole window at the scenario step', () => {
    expect(figures.window).toEqual({ start: history.start, end: history.end, step: STEP });
  });

  it('time stopped, memory-hours saved, starts and stops per target', () => {
    const e = history.expected.targets;
    const ollama = figures.targets.find((t) => t.target === 'ollama')!;
    expect(ollama).toMatchObject({
      observedSeconds: 2 * DAY,
      stoppedSeconds: e.ollama.stoppedSeconds,
      starts: e.ollama.starts,
      stops: e.ollama.stops,
      stopsFollowedByStart: e.ollama.stopsFollowedByStart,
    });
    expect(Math.abs(ollama.memoryBytesWhileRunning! - e.ollama.memoryMean!)).toBeLessThanOrEqual(0.5);
    expect(ollama.savedGiBHours).toBeCloseTo((e.ollama.stoppedSeconds / 3600) * (e.ollama.memoryMean! / GIB), 3);
    const comfy = figures.targets.find((t) => t.target === 'comfyui')!;
    expect(comfy).toMatchObject({ stoppedSeconds: e.comfyui.stoppedSeconds, starts: 1, stops: 1, memoryBytesWhileRunning: null, savedGiBHours: null });
  });

  it('lifecycle actions, across a receiver restart that reset its counters', () => {
    const got = Object.fromEntries(figures.actions.map((a) => [`${a.target}/${a.action}/${a.result}`, a.count]));
    expect(got).toEqual(history.expected.actions);
  });

  it('wakes and the wait for them', () => {
    const e = history.expected.wakes;
    expect(figures.wakes).toMatchObject({ byResult: e.byResult, total: 6, measured: e.measured });
    expect(figures.wakes!.meanSeconds).toBeCloseTo(e.mean, 3);
    // 5 of 6 waits are at most 30 s, the 6th (70 s) above the highest finite bucket (60): the 95th
    // percentile (rank 5.7) falls in +Inf, reported as that bucket's lower bound.
    expect(figures.wakes!.p95Seconds).toBe(60);
  });

  it('time in each recommendation branch and missing inputs', () => {
    const branches = Object.fromEntries(figures.branches.filter((b) => b.seconds > 0).map((b) => [b.priority, b.seconds]));
    expect(branches).toEqual(history.expected.branches);
    const missing = Object.fromEntries(figures.inputs.map((i) => [i.input, i.missingSeconds]));
    expect(missing).toEqual(history.expected.inputsMissing);
  });

  it('requests, latency and errors by model (a client that went away is not an error)', () => {
    for (const [model, e] of Object.entries(history.expected.models)) {
      const m = figures.models.find((x) => x.model === model)!;
      expect(m).toMatchObject({ requests: e.requests, errors: e.errors });
      expect(m.meanSeconds).toBeCloseTo(e.mean, 3);
      // Every duration of the model falls in one bucket (lower, upper]: linear interpolation puts the
      // 95th percentile at 95 % of the way through it.
      expect(m.p95Seconds).toBeCloseTo(e.bucket[0] + 0.95 * (e.bucket[1] - e.bucket[0]), 3);
    }
  });

  it('host thresholds: memory never below, CPU above for the busy minutes', () => {
    expect(figures.memory).toMatchObject({ triggered: 0, threshold: 2 * GIB, percentile: history.expected.memoryP01, min: history.expected.memoryMin });
    expect(figures.cpu).toMatchObject({ triggered: history.expected.cpuTriggered, threshold: 0.85 });
  });

  it('the cold starts the warm-up avoided and missed', () => {
    const e = history.expected.warmup;
    expect(figures.warmup).toMatchObject({ arrivals: e.arrivals, cold: e.cold, warm: e.warm, warmedByForecast: 1, forecastStartsWithoutWork: 1 });
    // Day 1: started 08:46 for the 09:00 batch (14 min), and 15:01-15:40 with no work (39 min).
    expect(figures.warmup!.warmupSeconds).toBe((14 + 39) * 60);
  });

  it('model preloads after starts', () => {
    const e = history.expected.preloads;
    expect(figures.preloads).toEqual({
      byResult: { loaded: e.loaded, failed: e.failed, no_recommendation: 0 },
      byModel: [{ model: 'qwen2.5:7b', result: 'failed', count: e.failed }, { model: 'qwen2.5:7b', result: 'loaded', count: e.loaded }],
    });
  });

  it('no series is reported missing', () => {
    expect(figures.missing).toEqual([]);
  });
});

describe('the CLI', () => {
  it('writes Markdown with suggestions that carry their numbers', async () => {
    const out = path.join(dir, 'report.md');
    const res = await cli(['--prometheus', prom.url, '--range', '2d', '--end', String(history.end), '--out', out]);
    expect(res).toMatchObject({ code: 0, stderr: '' });
    const md = fs.readFileSync(out, 'utf8');
    const e = history.expected.targets.ollama;
    expect(md).toContain(`target ollama stopped ${e.stops} times and was started again within 10 min ${e.stopsFollowedByStart} times`);
    expect(md).toContain(`was below 2 GiB in 0 of ${2 * DAY / STEP} samples`);
    expect(md).toContain('10 of 50 requests to qwen2.5:7b failed (20 %)');
    expect(md).toContain('ai:input_available{input="n8n_pending_ai_work"} was 0 for 3 h of 2 d');
    expect(md).toContain('1 of 2 arrivals of pending AI work (50 %) found ollama stopped');
    const evidence = md.split('\n').filter((l) => l.trim().startsWith('Evidence:'));
    expect(evidence.length).toBeGreaterThanOrEqual(5);
    for (const line of evidence) expect(line).toMatch(/\d/);
    expect(md).toContain(`| ollama | 2 d | ${Number((e.stoppedSeconds / DAY).toFixed(2))} d |`);
  });

  it('writes an HTML file that Chromium opens with every chart drawn and the figures embedded', async () => {
    const out = path.join(dir, 'report.html');
    const res = await cli(['--prometheus', prom.url, '--range', '2d', '--end', String(history.end), '--out', out]);
    expect(res.code).toBe(0);
    const html = fs.readFileSync(out, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=/);

    const chrome = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', `--user-data-dir=${fs.mkdtempSync(path.join(dir, 'chrome-'))}`];
    const { stdout: dom } = await run(CHROMIUM, [...chrome, '--virtual-time-budget=5000', '--dump-dom', `file://${out}`], { maxBuffer: 64 * 2 ** 20 });
    const embedded = JSON.parse(dom.match(/<script type="application\/json" id="report-figures">([\s\S]*?)<\/script>/)![1]) as ReportFigures;
    const { figures } = await buildReport(createPrometheusClient(prom.url), windowEndingAt(history.end, 2 * DAY));
    expect(embedded).toEqual(JSON.parse(JSON.stringify(figures)));
    expect(embedded.charts.map((c) => c.id).sort()).toEqual(['branches', 'memory', 'pending', 'requests', 'running']);
    // Time series: one point per step; request counts: one bar per 15 min (192 over 2 days), summing to the totals.
    for (const c of embedded.charts) expect([c.id, c.x.length]).toEqual([c.id, c.id === 'requests' ? 192 : 2 * DAY / STEP + 1]);
    const requests = embedded.charts.find((c) => c.id === 'requests')!;
    for (const s of requests.series) {
      expect(s.values.reduce<number>((a, b) => a + (b ?? 0), 0)).toBe(history.expected.models[s.label].requests);
    }
    for (const c of embedded.charts) {
      const div = dom.match(new RegExp(`<div id="chart-${c.id}" data-chart="${c.id}"([^>]*)>([\\s\\S]*?)</div></div>`));
      expect([c.id, div?.[1]]).toEqual([c.id, expect.stringContaining(`data-drawn="${c.x.length}"`)]);
      expect(div![0]).toContain('<canvas');
    }

    const png = path.join(dir, 'report.png');
    await run(CHROMIUM, [...chrome, '--virtual-time-budget=5000', '--hide-scrollbars', `--screenshot=${png}`, '--window-size=1200,2600', `file://${out}`]);
    if (process.env.REPORT_TEST_KEEP) for (const f of [out, png]) fs.copyFileSync(f, path.join(process.env.REPORT_TEST_KEEP, path.basename(f)));
    const image = decodePng(fs.readFileSync(png));
    const colours = new Set<number>();
    let inked = 0;
    for (let i = 0; i < image.pixels.length; i += image.channels) {
      const [r, g, b] = [image.pixels[i], image.pixels[i + 1], image.pixels[i + 2]];
      colours.add((r << 16) | (g << 8) | b);
      if (r < 200 || g < 200 || b < 200) inked++;
    }
    expect(colours.size).toBeGreaterThan(50);
    expect(inked / (image.width * image.height)).toBeGreaterThan(0.02);
  }, 60_000);

  it('says which series are missing and what to load, and still writes the report', async () => {
    const res = await cli(['--prometheus', prom.url, '--range', '1d', '--end', String(oldStart + DAY), '--format', 'md']);
    expect(res.code).toBe(0);
    expect(res.stderr).toContain('no data for ollama_gateway_wakes_total{job="ollama"}: scrape the ai-dispatcher gateway as job "ollama"');
    expect(res.stderr).toContain('no data for ai:n8n_pending_ai_work:sum: load rules/ai-dispatcher.rules.yml and scrape n8n');
    expect(res.stdout).toContain('## Series not found');
    expect(res.stdout).toContain('No gateway series (ollama_gateway_wakes_total, ollama_gateway_wake_duration_seconds) in the window');
    expect(res.stdout).toMatch(/\| ollama \| 1 d \| 0 s \| 0 % \|/);
  });

  it('refuses a range with no data', async () => {
    const res = await cli(['--prometheus', prom.url, '--range', '1d', '--end', String(oldStart - 5 * DAY)]);
    expect(res.code).toBe(1);
    expect(res.stderr).toContain("Prometheus has none of the report's series between");
    expect(res.stdout).toBe('');
  });

  it('refuses an unreachable Prometheus and a URL that is not Prometheus', async () => {
    const closed = await cli(['--prometheus', `http://127.0.0.1:${await freePort()}`, '--range', '1d']);
    expect(closed.code).toBe(1);
    expect(closed.stderr).toMatch(/cannot reach Prometheus at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\)/);
    const notProm = await cli(['--prometheus', `${prom.url}/nothing-here`, '--range', '1d']);
    expect(notProm.code).toBe(1);
    expect(notProm.stderr).toContain('answered HTTP 404 with no Prometheus API response');
  });

  it('says so when the output file cannot be written', async () => {
    const res = await cli(['--prometheus', prom.url, '--range', '2d', '--end', String(history.end), '--out', path.join(dir, 'no-such-dir', 'r.md')]);
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/cannot write .*no-such-dir\/r\.md: ENOENT/);
  });

  it('refuses bad options with usage (exit 2) and writes nothing', async () => {
    for (const args of [['--range', '7d'], ['--prometheus', 'http://x', '--range', 'a week'], ['--prometheus', 'http://x', '--out', 'r.pdf']]) {
      const res = await cli(args);
      expect([args, res.code]).toEqual([args, 2]);
      expect(res.stderr).toContain('Usage: ai-dispatcher report');
    }
  });
});
