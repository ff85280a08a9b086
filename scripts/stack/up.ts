/**
 * `npm run stack`: the whole loop on this machine, on loopback, detached; returns once everything is ready.
 *
 *   npm run stack [-- --fast] [--dir DIR] [--dry-run] [--private-docker] [--container NAME]
 *
 *   --fast            1 s scrape and evaluation, 1 s group_wait/interval, short receiver guards (demo mode)
 *   --dir DIR         state folder for configs, data, logs and pids (default ./.stack)
 *   --dry-run         never touch Docker, even when an engine is reachable
 *   --private-docker  start a dockerd of the stack's own (data in DIR/docker) instead of using DOCKER_HOST
 *   --container NAME  the container the receiver manages (default ai-dispatcher-ollama-stand-in, created
 *                     stopped from a busybox stand-in image when missing)
 *   --rules DIR       rule files to load instead of the repository's rules/*.yml (tests use shortened copies)
 *   --short-periods   load copies of the rules (written to DIR/rules) with short periods: lifecycle alerts'
 *                     for: 2s, idle period 20 s, Ollama request window 5 s (scripts/stack/short-periods.ts)
 *   --demo            all of --fast --short-periods --stand-in-node: watch the whole loop within a minute
 *   --free-ports      let the OS pick every port instead of the usual ones (several stacks side by side, tests)
 *   --stand-in-node   scrape job="node" from the stand-in exporter instead of the real node exporter, so that
 *                     host pressure can be simulated (POST /values node_load1, node_memory_available_bytes, ...)
 *
 * Docker: DOCKER_HOST, else /var/run/docker.sock; when no engine answers, the receiver runs in dry-run.
 */
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { FAST_RECEIVER_PERIODS, FAST_TIMINGS, NORMAL_RECEIVER_PERIODS, gatewayConfig, NORMAL_TIMINGS, alertmanagerConfig, prometheusConfig, receiverConfig, repoRoot, ruleFilesIn, type Timings } from './config';
import { configuredDockerHost, dockerClient, ensureStandInContainer, reachable, startPrivateDockerd } from './docker';
import { isOurs, logFile, pickPort, readPidRecords, spawnDetached, stopRecords, tail, waitForHttp, type PidRecord } from './processes';
import { fetchRecommendation, formatRecommendation } from './recommendation';
import { DEMO_PERIODS, writeShortenedRules, type ShortPeriods } from './short-periods';
import { writeStackState, type StackState } from './state';
import { RECEIVER_NODE_FLAGS } from '../../receiver/src/node-flags';

export interface UpOptions {
  dir: string;
  fast: boolean;
  dryRun: boolean;
  privateDocker: boolean;
  container: string;
  rulesDir?: string;
  standInNode?: boolean;
  shortPeriods?: ShortPeriods;
  /** Explicit Docker host (tests); otherwise DOCKER_HOST or the default socket. */
  dockerHost?: string;
  /** 0 everywhere = free ports from the OS (tests); otherwise the usual ports when free. */
  anyPorts?: boolean;
  /** Options of the Ollama stand-in container (benchmark: --load-ms N). */
  standInArgs?: string[];
  /** The gateway preloads the recommended model of these pairs after Ollama comes up. */
  preloadPairs?: Array<{ complexity: string; task_type: string }>;
  /** Override single timings (tests, benchmark). */
  timings?: Partial<Timings>;
  log?: (line: string) => void;
}

export function parseUpArgs(argv: string[]): UpOptions {
  const o: UpOptions = { dir: path.join(repoRoot, '.stack'), fast: false, dryRun: false, privateDocker: false, container: 'ai-dispatcher-ollama-stand-in' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      return v;
    };
    if (a === '--fast') o.fast = true;
    else if (a === '--dry-run') o.dryRun = true;
    else if (a === '--private-docker') o.privateDocker = true;
    else if (a === '--dir') o.dir = path.resolve(value());
    else if (a === '--container') o.container = value();
    else if (a === '--rules') o.rulesDir = path.resolve(value());
    else if (a === '--stand-in-node') o.standInNode = true;
    else if (a === '--free-ports') o.anyPorts = true;
    else if (a === '--short-periods') o.shortPeriods = DEMO_PERIODS;
    else if (a === '--demo') Object.assign(o, { fast: true, standInNode: true, shortPeriods: DEMO_PERIODS });
    else throw new Error(`unknown option ${a} (see scripts/README.md or scripts/stack/up.ts)`);
  }
  if (process.env.AI_DISPATCHER_STACK_FAST === '1') o.fast = true;
  return o;
}

/** Throws (after saying so) when a stack started from dir still runs: checked before anything is built or started. */
export function refuseIfRunning(dir: string, log: (line: string) => void): void {
  const running = readPidRecords(dir).filter(isOurs);
  if (running.length > 0) {
    const message = `a stack already runs from ${dir} (${running.map((r) => r.name).join(', ')}): npm run stack:down first`;
    log(message);
    throw new Error(message);
  }
}

export async function up(o: UpOptions): Promise<StackState> {
  const log = o.log ?? ((line: string) => console.log(line));
  const dir = o.dir;
  refuseIfRunning(dir, log);
  // A new stack starts from empty Prometheus and Alertmanager data: the previous run's last samples (a container's
  // memory, an old request time) and notification log must not make this one act.
  for (const data of ['prometheus', 'alertmanager']) fs.rmSync(path.join(dir, data), { recursive: true, force: true });
  for (const sub of ['logs', 'pids', 'secrets', 'prometheus', 'alertmanager']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  const timings: Timings = { ...(o.fast ? FAST_TIMINGS : NORMAL_TIMINGS), ...o.timings };
  const started: PidRecord[] = [];
  const port = (preferred: number) => pickPort(o.anyPorts ? 0 : preferred);
  const step = (what: string) => log(`  … ${what}`);

  try {
    log(`ai-dispatcher stack: state, data and logs in ${dir} (Prometheus and Alertmanager data start empty)`);
    log(`  intervals: scrape ${timings.scrapeSeconds}s, evaluation ${timings.evaluationSeconds}s, group_wait ${timings.groupWaitSeconds}s${o.fast ? ' (fast demo mode)' : ''}`);
    const tokenFile = path.join(dir, 'secrets', 'receiver-token');
    if (!fs.existsSync(tokenFile)) fs.writeFileSync(tokenFile, crypto.randomBytes(24).toString('hex') + '\n', { mode: 0o600 });

    step('node exporter');
    const nodePort = await port(9100);
    const nodeExporter = spawnDetached(dir, 'node-exporter', 'prometheus-node-exporter', [`--web.listen-address=127.0.0.1:${nodePort}`]);
    started.push(nodeExporter);
    await waitForHttp(`http://127.0.0.1:${nodePort}/metrics`, { timeoutMs: 15_000, process: nodeExporter });

    // Docker: decided before the stand-in exporter, which watches the managed container when there is one.
    let dockerHost: string | undefined;
    let dockerNote: string;
    if (o.dryRun) {
      dockerNote = 'DRY-RUN (--dry-run): the receiver logs and counts what it would do and touches no container';
    } else if (o.privateDocker) {
      step('private dockerd');
      const d = await startPrivateDockerd(dir);
      started.push(d.record);
      dockerHost = d.host;
      dockerNote = `private dockerd at ${d.host}`;
    } else {
      const candidate = o.dockerHost ?? configuredDockerHost();
      if (candidate && (await reachable(candidate))) {
        dockerHost = candidate;
        dockerNote = `Docker engine at ${candidate}`;
      } else {
        dockerNote = `DRY-RUN: no Docker engine answers${candidate ? ` at ${candidate}` : ' (DOCKER_HOST unset, no /var/run/docker.sock)'}; the receiver logs and counts what it would do and touches no container`;
      }
    }
    log(`  Docker: ${dockerNote}`);
    let ollamaPort: number | undefined;
    if (dockerHost) {
      step(`Ollama stand-in container "${o.container}"`);
      const c = await ensureStandInContainer(dockerClient(dockerHost), o.container, await port(11434), o.standInArgs);
      ollamaPort = c.port;
    }
    if (!dockerHost) {
      // No engine to run it in: the Ollama stand-in runs as a process, so the gateway has an Ollama to front.
      step('Ollama stand-in (a process: no Docker engine)');
      ollamaPort = await port(11434);
      const ollamaProcess = spawnDetached(dir, 'ollama-standin', process.execPath, [
        '--import', 'tsx', path.join(__dirname, 'ollama-standin', 'main.ts'), '--listen', `127.0.0.1:${ollamaPort}`,
      ]);
      started.push(ollamaProcess);
      await waitForHttp(`http://127.0.0.1:${ollamaPort}/api/version`, { timeoutMs: 20_000, process: ollamaProcess });
    }
    const ollamaUrl = `http://127.0.0.1:${ollamaPort ?? 11434}`;

    step('stand-in exporter (n8n, cAdvisor metrics)');
    const standInPort = await port(9479);
    const standIn = spawnDetached(dir, 'standin-exporter', process.execPath, [
      '--import', 'tsx', path.join(__dirname, 'standin-exporter.ts'), '--listen', `127.0.0.1:${standInPort}`,
      ...(dockerHost ? ['--ollama-url', ollamaUrl] : []),
    ]);
    started.push(standIn);
    await waitForHttp(`http://127.0.0.1:${standInPort}/values`, { timeoutMs: 20_000, process: standIn });

    step('receiver');
    const receiverPort = await port(9095);
    const receiverFile = path.join(dir, 'receiver.yml');
    fs.writeFileSync(receiverFile, receiverConfig({
      listen: `127.0.0.1:${receiverPort}`, dockerHost, container: o.container, readinessUrl: `${ollamaUrl}/api/tags`,
      ...(o.fast ? FAST_RECEIVER_PERIODS : NORMAL_RECEIVER_PERIODS),
    }));
    const receiver = spawnDetached(dir, 'receiver', process.execPath, [
      ...RECEIVER_NODE_FLAGS, path.join(repoRoot, 'dist/receiver/src/cli.js'), 'receiver', '--config', receiverFile, ...(dockerHost ? [] : ['--dry-run']),
    ], receiverEnv(tokenFile));
    started.push(receiver);
    await waitForHttp(`http://127.0.0.1:${receiverPort}/readyz`, { timeoutMs: 20_000, process: receiver });

    step('Ollama gateway (clients use it instead of Ollama; Prometheus scrapes it as job="ollama")');
    const gatewayPort = await port(11435);
    // Chosen here: the gateway's preload reads the recommendation from it.
    const promPort = await port(9090);
    const gatewayFile = path.join(dir, 'gateway.yml');
    fs.writeFileSync(gatewayFile, gatewayConfig({
      listen: `127.0.0.1:${gatewayPort}`, ollamaUrl, receiverUrl: dockerHost ? `http://127.0.0.1:${receiverPort}` : undefined,
      pollSeconds: timings.scrapeSeconds,
      preload: o.preloadPairs && { prometheusUrl: `http://127.0.0.1:${promPort}`, pairs: o.preloadPairs },
    }));
    const gateway = spawnDetached(dir, 'gateway', process.execPath, [
      ...RECEIVER_NODE_FLAGS, path.join(repoRoot, 'dist/receiver/src/cli.js'), 'gateway', '--config', gatewayFile,
    ], receiverEnv(tokenFile));
    started.push(gateway);
    await waitForHttp(`http://127.0.0.1:${gatewayPort}/metrics`, { timeoutMs: 20_000, process: gateway });

    step('Alertmanager');
    const amPort = await port(9093);
    const amFile = path.join(dir, 'alertmanager.yml');
    fs.writeFileSync(amFile, alertmanagerConfig({ timings, webhookUrl: `http://127.0.0.1:${receiverPort}/webhook/alertmanager`, credentialsFile: tokenFile }));
    const alertmanager = spawnDetached(dir, 'alertmanager', 'prometheus-alertmanager', [
      `--config.file=${amFile}`, `--storage.path=${path.join(dir, 'alertmanager')}`, `--web.listen-address=127.0.0.1:${amPort}`,
      '--cluster.listen-address=', `--web.external-url=http://127.0.0.1:${amPort}`,
    ]);
    started.push(alertmanager);
    await waitForHttp(`http://127.0.0.1:${amPort}/-/ready`, { timeoutMs: 15_000, process: alertmanager });

    step('Prometheus');
    const promFile = path.join(dir, 'prometheus.yml');
    const ruleFiles = o.shortPeriods ? writeShortenedRules(path.join(dir, 'rules'), o.shortPeriods, o.rulesDir) : ruleFilesIn(o.rulesDir);
    fs.writeFileSync(promFile, prometheusConfig({
      timings, ruleFiles, alertmanager: `127.0.0.1:${amPort}`,
      targets: [
        o.standInNode
          ? { job: 'node', address: `127.0.0.1:${standInPort}`, metricsPath: '/metrics/node' }
          : { job: 'node', address: `127.0.0.1:${nodePort}` },
        { job: 'ollama', address: `127.0.0.1:${gatewayPort}` },
        { job: 'n8n', address: `127.0.0.1:${standInPort}`, metricsPath: '/metrics/n8n' },
        { job: 'cadvisor', address: `127.0.0.1:${standInPort}`, metricsPath: '/metrics/cadvisor' },
        { job: 'ai-dispatcher', address: `127.0.0.1:${receiverPort}` },
        { job: 'alertmanager', address: `127.0.0.1:${amPort}` },
        { job: 'prometheus', address: `127.0.0.1:${promPort}` },
      ],
    }));
    const prometheus = spawnDetached(dir, 'prometheus', 'prometheus', [
      `--config.file=${promFile}`, `--storage.tsdb.path=${path.join(dir, 'prometheus')}`, `--web.listen-address=127.0.0.1:${promPort}`,
      '--web.enable-lifecycle', `--web.external-url=http://127.0.0.1:${promPort}`,
    ]);
    started.push(prometheus);
    await waitForHttp(`http://127.0.0.1:${promPort}/-/ready`, { timeoutMs: 20_000, process: prometheus });

    const state: StackState = {
      dir, fast: o.fast, timings, dryRun: dockerHost === undefined, dockerHost, container: o.container,
      urls: {
        prometheus: `http://127.0.0.1:${promPort}`, alertmanager: `http://127.0.0.1:${amPort}`, receiver: `http://127.0.0.1:${receiverPort}`,
        nodeExporter: `http://127.0.0.1:${nodePort}`, standInExporter: `http://127.0.0.1:${standInPort}`, ollama: ollamaUrl,
        gateway: `http://127.0.0.1:${gatewayPort}`,
      },
      tokenFile,
    };
    writeStackState(state);

    const waitSeconds = 3 * timings.scrapeSeconds + timings.evaluationSeconds + 10;
    step(`first recommendation: waiting until Prometheus has every host input (CPU utilisation needs two scrapes, ${timings.scrapeSeconds} s apart) and has evaluated the rules; at most ${waitSeconds} s`);
    const recommendation = await waitForRecommendation(state.urls.prometheus, waitSeconds * 1000, log);

    log('');
    log('ready:');
    log(`  Prometheus       ${state.urls.prometheus}   (rules: ${ruleFiles.map(shortPath).join(', ')})`);
    if (o.shortPeriods) log(`                   short periods: lifecycle for: ${o.shortPeriods.lifecycleForSeconds}s, idle period ${o.shortPeriods.idlePeriodSeconds}s, request window ${o.shortPeriods.requestWindowSeconds}s`);
    log(`  Alertmanager     ${state.urls.alertmanager}`);
    log(`  receiver         ${state.urls.receiver}/api/v1/targets   (token: ${tokenFile})`);
    log(`  node exporter    ${state.urls.nodeExporter}/metrics${o.standInNode ? '   (not scraped: --stand-in-node serves job="node" from the stand-in exporter)' : ''}`);
    log(`  stand-in values  ${state.urls.standInExporter}/values   (change: curl -d '{"n8n_queue_jobs_waiting": 2}' ${state.urls.standInExporter}/values)`);
    log(`  Docker           ${dockerNote}`);
    log(`  Ollama gateway   ${state.urls.gateway}   (point Ollama clients here: queue, metrics${dockerHost ? ', wake on request' : ''}; e.g. curl -d '{"model":"phi3:mini","prompt":"hi"}' ${state.urls.gateway}/api/generate)`);
    log(dockerHost
      ? `  Ollama stand-in  ${ollamaUrl}/api/tags   (container "${o.container}", started and stopped by the receiver)`
      : `  Ollama stand-in  ${ollamaUrl}/api/tags   (a process; models and speed: POST ${ollamaUrl}/_standin/options)`);
    log('');
    log('current recommendation (ai:recommended_model):');
    log(formatRecommendation(recommendation));
    log('');
    log(`logs: ${path.join(dir, 'logs')}   stop everything: npm run stack:down`);
    return state;
  } catch (err) {
    const failed = started.find((r) => !isOurs(r));
    log(`stack failed: ${(err as Error).message}`);
    if (failed) log(`last lines of ${logFile(dir, failed.name)}:\n${tail(logFile(dir, failed.name))}`);
    await stopRecords(dir, [...started].reverse());
    throw err;
  }
}

function shortPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative.startsWith('..') ? file : relative;
}

/** The token only from the stack's file (an AI_DISPATCHER_TOKEN in the caller's environment would win otherwise). */
function receiverEnv(tokenFile: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, AI_DISPATCHER_TOKEN_FILE: tokenFile };
  delete env.AI_DISPATCHER_TOKEN;
  return env;
}

/**
 * The first answer that is not metrics_unavailable (CPU utilisation needs two scrapes), or whatever the
 * query gives at the deadline: that is then the honest current state. Says every 5 s what it still waits for.
 */
async function waitForRecommendation(prometheus: string, timeoutMs: number, log: (line: string) => void) {
  const began = Date.now();
  const deadline = began + timeoutMs;
  let report = began + 5000;
  let last: Awaited<ReturnType<typeof fetchRecommendation>> = [];
  while (Date.now() < deadline) {
    last = await fetchRecommendation(prometheus).catch(() => []);
    if (last.length > 0 && last.every((s) => s.metric.priority !== 'metrics_unavailable')) return last;
    if (Date.now() >= report) {
      log(`    ${Math.round((Date.now() - began) / 1000)} s: ${await missingInputs(prometheus)}`);
      report += 5000;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  return last;
}

/** What the recommendation still lacks, in words: no evaluation yet, or the host inputs not yet seen. */
async function missingInputs(prometheus: string): Promise<string> {
  const query = 'ai:input_available{input=~"node_memory|node_cpu|node_load1"}';
  try {
    const body = (await (await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(query)}`)).json()) as {
      data: { result: Array<{ metric: { input: string }; value: [number, string] }> };
    };
    const missing = body.data.result.filter((r) => r.value[1] !== '1').map((r) => r.metric.input);
    if (body.data.result.length === 0) return 'no rule evaluation yet';
    return missing.length > 0 ? `still missing: ${missing.join(', ')}` : 'every host input seen; waiting for the next evaluation';
  } catch (err) {
    return `Prometheus does not answer yet (${(err as Error).message})`;
  }
}

if (require.main === module) {
  let options: UpOptions;
  try {
    options = parseUpArgs(process.argv.slice(2));
  } catch (err) {
    console.error((err as Error).message);
    process.exit(2);
  }
  try {
    // Before the build: a running stack's receiver runs from dist/.
    refuseIfRunning(options.dir, (line) => console.error(line));
  } catch {
    process.exit(1);
  }
  if (process.env.AI_DISPATCHER_STACK_SKIP_BUILD !== '1') {
    console.log('building the receiver (npm run build)');
    if (spawnSync('npm', ['run', '--silent', 'build'], { cwd: repoRoot, stdio: 'inherit' }).status !== 0) process.exit(1);
  }
  up(options).then(() => process.exit(0), () => process.exit(1));
}
