/**
 * Reaction time of the whole loop in the fast mode, on this machine:
 *   start: the pending-work metric changes -> the Ollama stand-in container answers /api/tags
 *   stop:  Ollama stops getting requests     -> the container is stopped
 * each as the median of several runs, beside its budget:
 *   start budget = scrape + evaluation + for + group_wait + the engine's own start->ready time
 *   stop budget  = scrape + request window + idle period + evaluation + for + group_wait + the engine's own stop time
 * The engine's times are measured in the same run on a second stand-in container that the receiver does not
 * manage (interleaved with the loop runs).
 *
 *   npx tsx scripts/bench/loop-bench.ts [--runs 5]
 *
 * Uses the stack's own code (scripts/stack/up.ts) with a private dockerd, free ports and a temp dir.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { down } from '../stack/down';
import { dockerClient, ensureStandInContainer } from '../stack/docker';
import { pickPort } from '../stack/processes';
import type { ShortPeriods } from '../stack/short-periods';
import { up } from '../stack/up';

const CONTAINER = 'ollama-bench-stand-in';
const REFERENCE = 'engine-reference-stand-in';
const PERIODS: ShortPeriods = { lifecycleForSeconds: 1, idlePeriodSeconds: 5, requestWindowSeconds: 3 };
const POLL_MS = 25;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

async function answers(port: number): Promise<boolean> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}/api/tags`, { signal: AbortSignal.timeout(500) });
    return res.ok;
  } catch {
    return false;
  }
}

async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (await check()) return (performance.now() - t0) / 1000;
    await sleep(POLL_MS);
  }
  throw new Error(`${what} did not happen within ${timeoutMs / 1000} s`);
}

async function main(): Promise<void> {
  const runsArg = process.argv.indexOf('--runs');
  const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'loop-bench-'));
  const log: string[] = [];
  try {
    const stack = await up({
      dir, fast: true, dryRun: false, privateDocker: true, container: CONTAINER, anyPorts: true, standInNode: true,
      shortPeriods: PERIODS, log: (l) => log.push(l),
    });
    const docker = dockerClient(stack.dockerHost!);
    const loopPort = Number(new URL(stack.urls.ollama).port);
    const refPort = (await ensureStandInContainer(docker, REFERENCE, await pickPort(0))).port;
    const reference = docker.getContainer(REFERENCE);
    const loopContainer = docker.getContainer(CONTAINER);
    const set = (values: Record<string, number>) => fetch(`${stack.urls.standInExporter}/values`, { method: 'POST', body: JSON.stringify(values) });
    const running = async (c: typeof reference) => (await c.inspect()).State.Running;
    const t = stack.timings;

    await set({ ollama_requests_per_second: 1, n8n_queue_jobs_waiting: 0 });
    await sleep(2000);
    const startTimes: number[] = [], stopTimes: number[] = [], engineStart: number[] = [], engineStop: number[] = [];
    for (let run = 1; run <= runs; run++) {
      // The engine alone: start -> /api/tags answers, then stop.
      const s0 = performance.now();
      await reference.start();
      await until('reference ready', 20_000, () => answers(refPort));
      engineStart.push((performance.now() - s0) / 1000);
      const s1 = performance.now();
      await reference.stop({ t: 5 });
      engineStop.push((performance.now() - s1) / 1000);

      // The loop: pending work appears -> ready.
      await set({ n8n_queue_jobs_waiting: 2, ollama_requests_per_second: 1 });
      startTimes.push(await until('loop start', 60_000, () => answers(loopPort)));
      await set({ n8n_queue_jobs_waiting: 0 });
      await sleep(1500); // PendingAIWorkflows resolves; Ollama is still in use
      // Ollama gets no more requests -> stopped.
      await set({ ollama_requests_per_second: 0 });
      stopTimes.push(await until('loop stop', 90_000, async () => !(await running(loopContainer))));
      console.log(`run ${run}: start ${startTimes.at(-1)!.toFixed(2)} s (engine alone ${engineStart.at(-1)!.toFixed(2)} s), stop ${stopTimes.at(-1)!.toFixed(2)} s (engine alone ${engineStop.at(-1)!.toFixed(2)} s)`);
      // Requests again before the next run, and let the idle alert resolve (the container's memory series is gone).
      await set({ ollama_requests_per_second: 1 });
      await sleep(3000);
    }

    const startBudget = t.scrapeSeconds + t.evaluationSeconds + PERIODS.lifecycleForSeconds + t.groupWaitSeconds + median(engineStart);
    const stopBudget = t.scrapeSeconds + PERIODS.requestWindowSeconds + PERIODS.idlePeriodSeconds + t.evaluationSeconds
      + PERIODS.lifecycleForSeconds + t.groupWaitSeconds + median(engineStop);
    const line = (name: string, xs: number[], budget: number, parts: string) =>
      `${name}: median ${median(xs).toFixed(2)} s (runs ${xs.map((x) => x.toFixed(2)).join(', ')}); budget ${budget.toFixed(2)} s = ${parts}; median - budget = ${(median(xs) - budget >= 0 ? '+' : '')}${(median(xs) - budget).toFixed(2)} s`;
    console.log('');
    console.log(`fast mode: scrape ${t.scrapeSeconds}s, evaluation ${t.evaluationSeconds}s, lifecycle for ${PERIODS.lifecycleForSeconds}s, group_wait ${t.groupWaitSeconds}s, idle period ${PERIODS.idlePeriodSeconds}s, request window ${PERIODS.requestWindowSeconds}s; ${runs} runs`);
    console.log(line('metric change -> container ready', startTimes, startBudget,
      `scrape ${t.scrapeSeconds} + eval ${t.evaluationSeconds} + for ${PERIODS.lifecycleForSeconds} + group_wait ${t.groupWaitSeconds} + engine start->ready ${median(engineStart).toFixed(2)}`));
    console.log(line('idle -> container stopped', stopTimes, stopBudget,
      `scrape ${t.scrapeSeconds} + window ${PERIODS.requestWindowSeconds} + idle ${PERIODS.idlePeriodSeconds} + eval ${t.evaluationSeconds} + for ${PERIODS.lifecycleForSeconds} + group_wait ${t.groupWaitSeconds} + engine stop ${median(engineStop).toFixed(2)}`));
  } catch (err) {
    console.error(log.join('\n'));
    throw err;
  } finally {
    await down(dir, () => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
