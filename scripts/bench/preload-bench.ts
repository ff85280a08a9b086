/**
 * Model preload: the first request's latency after Ollama comes up, with and without the gateway's preload,
 * interleaved in one run (round 1: preload, none; round 2: none, preload; ...). Real processes: Prometheus
 * (recording the recommendation the preload reads), the gateway (`ai-dispatcher gateway`) and the Ollama
 * stand-in with a realistic model load time. For each gap (time from Ollama answering to the first request:
 * 0 is a wake, where the request is already waiting; minutes is an alert or warm-up start ahead of the work),
 * the stand-in is started, the request waits the gap, then one streamed /api/generate goes through the gateway.
 *
 *   npx tsx scripts/bench/preload-bench.ts [--load-ms 8000] [--gaps 0,10000,30000] [--rounds 3] [--poll-seconds 5]
 *
 * Reports per mode and gap: time to the first chunk (median and max over the rounds) and the load_duration
 * Ollama reported. Goal (issue 17): after a start ahead of the work, the first request does not pay the load.
 * --load-ms 8000 stands for a 7B Q4 model read from an SSD into RAM (the stand-in sleeps that long on a load).
 */
import type { ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { RECEIVER_NODE_FLAGS } from '../../receiver/src/node-flags';
import { startPrometheus, type PrometheusServer } from '../harness/prometheus';
import { spawnLogged } from '../harness/spawn-logged';
import { pickPort, waitForHttp } from '../stack/processes';

const ROOT = path.resolve(__dirname, '../..');
const MODEL = 'mistral:7b';

const { values: args } = parseArgs({
  options: {
    'load-ms': { type: 'string', default: '8000' },
    gaps: { type: 'string', default: '0,10000,30000' },
    rounds: { type: 'string', default: '3' },
    'poll-seconds': { type: 'string', default: '5' },
  },
});
const LOAD_MS = Number(args['load-ms']);
const GAPS = String(args.gaps).split(',').map(Number);
const ROUNDS = Number(args.rounds);
const POLL_SECONDS = Number(args['poll-seconds']);
for (const [name, v] of [['--load-ms', LOAD_MS], ['--rounds', ROUNDS], ['--poll-seconds', POLL_SECONDS], ...GAPS.map((g) => ['--gaps', g] as const)] as const) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name}: a number >= 0`);
}

type Mode = 'preload' | 'none';
interface Sample { mode: Mode; gapMs: number; firstChunkMs: number; loadMs: number }

async function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** One streamed generate through the gateway: ms to the first chunk, and load_duration (ms) from the last. */
async function firstRequest(gatewayUrl: string): Promise<{ firstChunkMs: number; loadMs: number }> {
  const started = performance.now();
  const res = await fetch(`${gatewayUrl}/api/generate`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ model: MODEL, prompt: 'Classify this ticket.', stream: true }),
  });
  if (!res.ok || !res.body) throw new Error(`first request: HTTP ${res.status} ${await res.text()}`);
  let firstChunkMs: number | undefined;
  let text = '';
  for await (const chunk of res.body) {
    firstChunkMs ??= performance.now() - started;
    text += Buffer.from(chunk as Uint8Array).toString('utf8');
  }
  const last = JSON.parse(text.trim().split('\n').pop()!) as { load_duration?: number };
  return { firstChunkMs: firstChunkMs!, loadMs: (last.load_duration ?? 0) / 1e6 };
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'preload-bench-'));
  const children: ChildProcess[] = [];
  let prom: PrometheusServer | undefined;
  try {
    fs.writeFileSync(path.join(dir, 'rec.yml'), `groups:\n  - name: recommendation\n    rules:\n      - {record: ai:recommended_model_options, expr: '1', labels: {complexity: high, task_type: analysis, model: '${MODEL}', priority: optimal_performance, timeout_seconds: '60', temperature: '0.3', num_predict: '100'}}\n`);
    prom = await startPrometheus({ ruleFiles: [path.join(dir, 'rec.yml')] });
    await prom.waitFor(async () => (await prom!.query('ai:recommended_model_options')).length === 1, { what: 'the recommendation' });

    // One Ollama port per gateway: a gateway's polls and preloads must not touch the other mode's Ollama.
    const gateways: Record<Mode, { url: string; ollamaPort: number; child: ChildProcess }> = {} as never;
    for (const mode of ['preload', 'none'] as Mode[]) {
      const port = await pickPort(0);
      const ollamaPort = await pickPort(0);
      const config = path.join(dir, `gateway-${mode}.yml`);
      fs.writeFileSync(config, [
        `listen: 127.0.0.1:${port}`,
        `upstream: {url: "http://127.0.0.1:${ollamaPort}"}`,
        `poll: {interval_seconds: ${POLL_SECONDS}, timeout_seconds: 1}`,
        ...(mode === 'preload' ? [`preload: {prometheus_url: "${prom.url}", pairs: [{complexity: high, task_type: analysis}], keep_alive: 30m}`] : []),
      ].join('\n'));
      const child = spawnLogged(dir, `gateway-${mode}`, process.execPath, [...RECEIVER_NODE_FLAGS, '--import', 'tsx', path.join(ROOT, 'receiver/src/cli.ts'), 'gateway', '--config', config]);
      children.push(child);
      gateways[mode] = { url: `http://127.0.0.1:${port}`, ollamaPort, child };
      await waitForHttp(`${gateways[mode].url}/metrics`, { timeoutMs: 30_000 });
    }

    const samples: Sample[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const order: Mode[] = round % 2 === 0 ? ['preload', 'none'] : ['none', 'preload'];
      for (const gapMs of GAPS) {
        for (const mode of order) {
          // Ollama comes up (a fresh process: no model loaded) behind this mode's gateway.
          const ollamaPort = gateways[mode].ollamaPort;
          const ollama = spawnLogged(dir, 'standin', process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/stack/ollama-standin/main.ts'),
            '--listen', `127.0.0.1:${ollamaPort}`, '--load-ms', String(LOAD_MS), '--tokens-per-second', '40', '--answer-tokens', '20']);
          await waitForHttp(`http://127.0.0.1:${ollamaPort}/api/version`, { timeoutMs: 30_000 });
          await new Promise((r) => setTimeout(r, gapMs));
          const result = await firstRequest(gateways[mode].url);
          samples.push({ mode, gapMs, ...result });
          process.stdout.write(`round ${round + 1} gap ${gapMs} ms ${mode}: first chunk ${result.firstChunkMs.toFixed(0)} ms, load_duration ${result.loadMs.toFixed(0)} ms\n`);
          await stop(ollama);
          // The gateway must see Ollama down before the next start (a poll in between).
          await new Promise((r) => setTimeout(r, POLL_SECONDS * 1000 + 500));
        }
      }
    }

    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
    console.log(`\nmodel load ${LOAD_MS} ms, gateway poll every ${POLL_SECONDS} s, ${ROUNDS} rounds`);
    console.log('| gap (Ollama up -> first request) | mode | first chunk median | max | load_duration median |');
    console.log('|---|---|---|---|---|');
    for (const gapMs of GAPS) {
      for (const mode of ['none', 'preload'] as Mode[]) {
        const s = samples.filter((x) => x.gapMs === gapMs && x.mode === mode);
        console.log(`| ${gapMs / 1000} s | ${mode} | ${median(s.map((x) => x.firstChunkMs)).toFixed(0)} ms | ${Math.max(...s.map((x) => x.firstChunkMs)).toFixed(0)} ms | ${median(s.map((x) => x.loadMs)).toFixed(0)} ms |`);
      }
    }
  } finally {
    for (const child of children) await stop(child);
    await prom?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: Error) => {
  console.error(err.stack ?? err.message);
  process.exitCode = 1;
});
