/**
 * Benchmark: what scaleService adds on top of Swarm's own scaling time, on a private single-node swarm.
 *
 *   npx tsx scripts/bench/swarm-scale.ts [--runs 5]
 *
 * One private dockerd in swarm mode (scripts/harness/swarm.ts), one stand-in service on the host network.
 * Interleaved runs, the service at 0 replicas and without live tasks before each:
 *   direct   one service update (whole spec, current version) to 1 replica, then the tasks polled every
 *            10 ms until one runs; the same down to 0 until no task is left;
 *   ours     scaleService(1) and scaleService(0) (receiver/src/docker/swarm-service.ts), which also wait
 *            for leaving tasks before scaling up, check for rejected tasks, and poll every 100 ms.
 * Reported: medians of up (call -> a task runs) and down (call -> no task left), and ours minus direct.
 */
import { performance } from 'node:perf_hooks';
import { dockerodeSwarmApi, isLive, scaleService } from '../../receiver/src/docker/swarm-service';
import { freePort } from '../harness/free-port';
import { createStandInService, startSwarmEngine } from '../harness/swarm';

const at = process.argv.indexOf('--runs');
const RUNS = at >= 0 ? Number(process.argv[at + 1]) : 5;
const SERVICE = 'bench-svc';

async function main(): Promise<void> {
  const swarm = await startSwarmEngine();
  try {
    const docker = swarm.engine.docker;
    const api = dockerodeSwarmApi(docker);
    await createStandInService(swarm.engine, { name: SERVICE, port: await freePort(), replicas: 0 });

    const tasks = () => api.listTasks(SERVICE);
    const until = async (done: () => Promise<boolean>) => {
      while (!(await done())) await new Promise((resolve) => setTimeout(resolve, 10));
    };
    const rawScale = async (replicas: number) => {
      for (;;) {
        const info = (await api.inspectService(SERVICE))!;
        try {
          await api.updateService(info.ID, info.Version.Index, { ...info.Spec, Mode: { Replicated: { Replicas: replicas } } });
          return;
        } catch (error) {
          if (!/out of sequence/.test(String(error))) throw error;
        }
      }
    };
    const timed = async (run: () => Promise<unknown>) => {
      const t0 = performance.now();
      await run();
      return performance.now() - t0;
    };

    const samples = { direct: { up: [] as number[], down: [] as number[] }, ours: { up: [] as number[], down: [] as number[] } };
    for (let i = 0; i < RUNS; i += 1) {
      samples.direct.up.push(await timed(async () => {
        await rawScale(1);
        await until(async () => (await tasks()).some((t) => t.Status.State === 'running' && t.DesiredState === 'running'));
      }));
      samples.direct.down.push(await timed(async () => {
        await rawScale(0);
        await until(async () => !(await tasks()).some(isLive));
      }));
      samples.ours.up.push(await timed(() => scaleService(api, SERVICE, 1, { waitMs: 30_000 })));
      samples.ours.down.push(await timed(() => scaleService(api, SERVICE, 0, { waitMs: 30_000 })));
      process.stderr.write(`run ${i + 1}/${RUNS} done\n`);
    }

    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const ms = (x: number) => `${Math.round(x)} ms`;
    console.log(`swarm scaling, ${RUNS} interleaved runs, medians (call -> state reached)`);
    console.log('| path | 0 -> 1 (a task runs) | 1 -> 0 (no task left) |');
    console.log('|---|---|---|');
    for (const path of ['direct', 'ours'] as const) {
      console.log(`| ${path} | ${ms(median(samples[path].up))} | ${ms(median(samples[path].down))} |`);
    }
    console.log(
      `| ours - direct | ${ms(median(samples.ours.up) - median(samples.direct.up))} | ${ms(median(samples.ours.down) - median(samples.direct.down))} |`,
    );
  } finally {
    await swarm.stop();
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});
