/**
 * Reaction time of the whole loop in the fast mode, on this machine:
 *   start: the pending-work metric changes -> the Ollama stand-in container answers /api/tags
 *   stop:  Ollama stops getting requests (through the gateway) -> the container is stopped
 *   wake:  a request through the gateway to the stopped container -> its answer (gateway -> receiver wake API ->
 *          start -> ready -> forwarded)
 * each as the median of several runs, beside its budget:
 *   start budget = scrape + evaluation + for + group_wait + the engine's own start->ready time
 *   stop budget  = scrape + request window + idle period + evaluation + for + group_wait + the engine's own stop time
 *   wake goal    = the engine's own start->ready time + the same request's answer straight from the just-started
 *                  stand-in (its model load included) + 0.3 s (issue 13: answered within 300 ms of ready)
 * The engine's times are measured in the same run on a second stand-in container that the receiver does not
 * manage (interleaved with the loop runs).
 *
 *   npx tsx scripts/bench/loop-bench.ts [--runs 5]
 *
 * Uses the stack's own code (scripts/stack/up.ts) with a private dockerd, free ports and a temp dir.
 */
import { dockerClient, ensureStandInContainer } from '../stack/docker';
import { pickPort } from '../stack/processes';
import type { ShortPeriods } from '../stack/short-periods';
import { withBenchStack } from '../harness/bench-stack';
import { generate, keepBusy } from '../harness/gateway-traffic';

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
  await withBenchStack('loop-bench-', () => ({ container: CONTAINER, shortPeriods: PERIODS }), async (stack) => {
    const docker = dockerClient(stack.dockerHost!);
    const loopPort = Number(new URL(stack.urls.ollama).port);
    const refPort = (await ensureStandInContainer(docker, REFERENCE, await pickPort(0))).port;
    const reference = docker.getContainer(REFERENCE);
    const loopContainer = docker.getContainer(CONTAINER);
    const set = (values: Record<string, number>) => fetch(`${stack.urls.standInExporter}/values`, { method: 'POST', body: JSON.stringify(values) });
    const running = async (c: typeof reference) => (await c.inspect()).State.Running;
    const t = stack.timings;

    await set({ n8n_queue_jobs_waiting: 0 });
    await sleep(2000);
    const startTimes: number[] = [], stopTimes: number[] = [], wakeTimes: number[] = [], engineStart: number[] = [], engineStop: number[] = [];
    const engineAnswer: number[] = [];
    for (let run = 1; run <= runs; run++) {
      // The engine alone: start -> /api/tags answers, then stop.
      const s0 = performance.now();
      await reference.start();
      await until('reference ready', 20_000, () => answers(refPort));
      engineStart.push((performance.now() - s0) / 1000);
      const a0 = performance.now();
      if ((await generate(`http://127.0.0.1:${refPort}`, { prompt: 'wake' })) !== 200) throw new Error('the reference stand-in did not answer');
      engineAnswer.push((performance.now() - a0) / 1000);
      const s1 = performance.now();
      await reference.stop({ t: 5 });
      engineStop.push((performance.now() - s1) / 1000);

      // The loop: pending work appears -> ready.
      await set({ n8n_queue_jobs_waiting: 2 });
      startTimes.push(await until('loop start', 60_000, () => answers(loopPort)));
      const traffic = keepBusy(stack.urls.gateway);
      await set({ n8n_queue_jobs_waiting: 0 });
      await sleep(1500); // PendingAIWorkflows resolves; Ollama is still in use
      // Ollama gets no more requests -> stopped.
      await traffic.stop();
      stopTimes.push(await until('loop stop', 90_000, async () => !(await running(loopContainer))));
      // Let the idle alert resolve (the container's memory series is gone), then wake it with a request.
      await sleep(3000);
      const w0 = performance.now();
      const status = await generate(stack.urls.gateway, { prompt: 'wake' });
      if (status !== 200) throw new Error(`the waking request got HTTP ${status}`);
      wakeTimes.push((performance.now() - w0) / 1000);
      console.log(`run ${run}: start ${startTimes.at(-1)!.toFixed(2)} s (engine alone ${engineStart.at(-1)!.toFixed(2)} s), stop ${stopTimes.at(-1)!.toFixed(2)} s (engine alone ${engineStop.at(-1)!.toFixed(2)} s), woken answer ${wakeTimes.at(-1)!.toFixed(2)} s`);
      // Stopped again for the next run (by hand: the measured paths are the ones above).
      await loopContainer.stop({ t: 5 });
      await sleep(2000);
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
    console.log(line('request through the gateway to a stopped Ollama -> its answer', wakeTimes, median(engineStart) + median(engineAnswer) + 0.3,
      `engine start->ready ${median(engineStart).toFixed(2)} + first answer straight from it ${median(engineAnswer).toFixed(2)} + 0.30 (goal)`));
    console.log(line('idle -> container stopped', stopTimes, stopBudget,
      `scrape ${t.scrapeSeconds} + window ${PERIODS.requestWindowSeconds} + idle ${PERIODS.idlePeriodSeconds} + eval ${t.evaluationSeconds} + for ${PERIODS.lifecycleForSeconds} + group_wait ${t.groupWaitSeconds} + engine stop ${median(engineStop).toFixed(2)}`));
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
