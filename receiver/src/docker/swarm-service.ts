/**
 * Scales a replicated Docker Swarm service and waits until its tasks have followed.
 *
 * Engine API calls made (through SwarmApi):
 *   GET  /services/{name}                      inspect (whole Spec and Version.Index)
 *   POST /services/{id}/update?version=N       the same Spec with another replica count
 *   GET  /tasks?filters={"service":[id]}       the service's tasks
 *
 * What Swarm does not do by itself, and this module does:
 * - An update must carry the whole current Spec and the current Version.Index; a stale index answers
 *   HTTP 500 "update out of sequence" (a parallel update won). Then: inspect again and retry, bounded.
 * - A task whose image is missing goes `rejected` and Swarm retries forever: the wait fails fast on a
 *   new task that is rejected or failed, reports the task's error, and puts the replica count back.
 * - Scaling 1 -> 0 -> 1 quickly briefly runs the old and the new task side by side: before scaling up,
 *   wait until every task that is being shut down has gone, so memory is never held twice.
 */
import type Docker from 'dockerode';
import { systemClock, type Clock } from '../clock';
import { errorMessage } from '../error-message';
import { DockerApiError } from './controller';

export interface ServiceSpec {
  Name: string;
  Mode?: { Replicated?: { Replicas?: number }; Global?: object; [mode: string]: unknown };
  TaskTemplate?: { ContainerSpec?: { StopGracePeriod?: number } };
  [key: string]: unknown;
}

export interface ServiceInfo {
  ID: string;
  Version: { Index: number };
  Spec: ServiceSpec;
}

export interface TaskInfo {
  ID: string;
  Slot?: number;
  DesiredState: string;
  CreatedAt?: string;
  Status: { State: string; Timestamp?: string; Err?: string; Message?: string };
}

/** The three calls this module needs; dockerodeSwarmApi() is the real one. */
export interface SwarmApi {
  /** undefined when no service has exactly this name. */
  inspectService(name: string): Promise<ServiceInfo | undefined>;
  updateService(id: string, version: number, spec: ServiceSpec): Promise<void>;
  listTasks(serviceId: string): Promise<TaskInfo[]>;
}

/** Runs one engine call (bounded, errors translated); swarm-member.ts passes the controller's. */
export type ApiCall = <T>(what: string, run: (signal: AbortSignal) => Promise<T>) => Promise<T>;

const direct: ApiCall = (_what, run) => run(AbortSignal.timeout(30_000));

export function dockerodeSwarmApi(docker: Docker, call: ApiCall = direct): SwarmApi {
  return {
    async inspectService(name) {
      try {
        const info = (await call(`inspect swarm service ${name}`, (abortSignal) =>
          docker.getService(name).inspect({ abortSignal } as object),
        )) as ServiceInfo;
        // The engine also resolves /services/{x} by id and id prefix: accept only this exact name.
        return info.Spec?.Name === name ? info : undefined;
      } catch (error) {
        if (statusOf(error) === 404) return undefined;
        throw error;
      }
    },
    async updateService(id, version, spec) {
      await call(`update swarm service ${spec.Name}`, (abortSignal) =>
        docker.getService(id).update({ _query: { version }, _body: spec, abortSignal } as never),
      );
    },
    async listTasks(serviceId) {
      return (await call(`list tasks of swarm service ${serviceId}`, (abortSignal) =>
        docker.listTasks({ filters: { service: [serviceId] }, abortSignal } as object),
      )) as TaskInfo[];
    },
  };
}

/** No service has this name. */
export class ServiceNotFoundError extends Error {
  constructor(readonly service: string) {
    super(`no swarm service named "${service}"`);
    this.name = 'ServiceNotFoundError';
  }
}

/** A task of the service was rejected or failed while we waited for it to run (e.g. its image is missing). */
export class ServiceTaskFailedError extends DockerApiError {
  constructor(readonly service: string, readonly task: TaskInfo, rolledBack: string) {
    const why = task.Status.Err || task.Status.Message || 'no error given';
    super(`swarm service "${service}": task ${task.ID.slice(0, 12)} ${task.Status.State}: ${why}${rolledBack}`);
    this.name = 'ServiceTaskFailedError';
  }
}

const TERMINAL = new Set(['complete', 'shutdown', 'failed', 'rejected', 'orphaned', 'remove']);
const FAILED = new Set(['failed', 'rejected']);

/** A task that holds or may soon hold a container (not in a final state). */
export const isLive = (task: TaskInfo): boolean => !TERMINAL.has(task.Status.State);
/** Running, and meant to keep running (not on its way out). */
const isWanted = (task: TaskInfo): boolean => task.DesiredState === 'running' || task.DesiredState === 'ready';
const isLeaving = (task: TaskInfo): boolean => isLive(task) && !isWanted(task);

export interface ServiceStatus {
  id: string;
  name: string;
  /** Spec.Mode.Replicated.Replicas (what Swarm aims for). */
  desiredReplicas: number;
  /** Tasks whose container runs right now (including ones on their way out). */
  runningTasks: number;
  /** When the most recent running task got to running. */
  startedAt?: Date;
}

/** The service's state as the engine reports it; undefined when there is no such service. */
export async function readService(api: SwarmApi, name: string): Promise<ServiceStatus | undefined> {
  const info = await api.inspectService(name);
  if (!info) return undefined;
  const running = (await api.listTasks(info.ID)).filter((t) => t.Status.State === 'running');
  const starts = running.map((t) => Date.parse(t.Status.Timestamp ?? '')).filter((t) => Number.isFinite(t));
  return {
    id: info.ID,
    name,
    desiredReplicas: replicasOf(info),
    runningTasks: running.length,
    startedAt: starts.length > 0 ? new Date(Math.max(...starts)) : undefined,
  };
}

export interface ScaleOptions {
  /** Upper bound for the waits: old tasks gone before scaling up, then the new count reached. */
  waitMs: number;
  /** When the service already runs more replicas than asked, leave it so ("ensure at least"). */
  keepHigher?: boolean;
  /** Updates tried when other clients update the service at the same time (default 5). */
  maxUpdateAttempts?: number;
  pollMs?: number;
  signal?: AbortSignal;
  /** Time for the waits and their deadline (default: the system clock). */
  clock?: Clock;
}

export interface ScaleResult {
  /** False when the spec already had the wanted count (nothing was updated; we only waited). */
  changed: boolean;
  previousReplicas: number;
  replicas: number;
  runningTasks: number;
}

/**
 * Sets the service's replica count and resolves once the tasks have followed: `replicas` tasks running
 * (scaling up), or no task left that holds a container (scaling down).
 * Rejects with ServiceNotFoundError, ServiceTaskFailedError (a new task was rejected or failed; the
 * previous count is restored), or DockerApiError (not a replicated service, out of sequence too often,
 * not there within waitMs).
 */
export async function scaleService(api: SwarmApi, name: string, replicas: number, options: ScaleOptions): Promise<ScaleResult> {
  if (!Number.isInteger(replicas) || replicas < 0) throw new RangeError(`replicas must be a whole number >= 0, not ${replicas}`);
  const clock = options.clock ?? systemClock;
  const deadline = clock.now() + options.waitMs;
  const pollMs = options.pollMs ?? 100;
  const sleep = (ms: number) => clock.sleep(ms, options.signal);

  const update = await updateReplicas(api, name, options.maxUpdateAttempts ?? 5, sleep, async (info, tasks) => {
    const current = replicasOf(info);
    const wanted = options.keepHigher ? Math.max(current, replicas) : replicas;
    // Tasks on their way out: marked so, or more live tasks than the spec asks for (right after a
    // scale-down the orchestrator has not marked them yet).
    const settled = (ts: TaskInfo[]) => !ts.some(isLeaving) && ts.filter(isLive).length <= current;
    if (wanted <= current || settled(tasks)) return wanted;
    // Scaling up while earlier tasks are still stopping would run old and new side by side: wait, and
    // inspect again each time, since the spec read before the task list may already be out of date
    // (another caller scaled up in between, so its new task looks like one too many).
    if (clock.now() >= deadline) {
      throw new DockerApiError(`swarm service "${name}": tasks being shut down still there after ${options.waitMs / 1000} s; not scaled up`);
    }
    await sleep(Math.min(pollMs, Math.max(0, deadline - clock.now())));
    return undefined;
  });
  const target = update.replicas;
  // With keepHigher the spec may ask for more than we do; what we wait for is our own count.
  const needed = Math.min(target, replicas);

  if (target === 0) {
    const tasks = await waitFor(api, update.id, { deadline, pollMs, clock, sleep }, (ts) => !ts.some(isLive), (ts) =>
      `swarm service "${name}": ${ts.filter(isLive).length} task(s) still running ${options.waitMs / 1000} s after scaling to 0`,
    );
    return { changed: update.changed, previousReplicas: update.previous, replicas: 0, runningTasks: tasks.filter(isLive).length };
  }

  try {
    const tasks = await waitFor(
      api,
      update.id,
      { deadline, pollMs, clock, sleep },
      (ts) => {
        const failed = ts.find((t) => FAILED.has(t.Status.State) && !update.knownTaskIds.has(t.ID));
        if (failed) throw new ServiceTaskFailedError(name, failed, '');
        return ts.filter((t) => t.Status.State === 'running' && isWanted(t)).length >= needed;
      },
      (ts) => `swarm service "${name}": ${ts.filter((t) => t.Status.State === 'running' && isWanted(t)).length} of ${needed} task(s) running after ${options.waitMs / 1000} s`,
    );
    return {
      changed: update.changed,
      previousReplicas: update.previous,
      replicas: target,
      runningTasks: tasks.filter((t) => t.Status.State === 'running').length,
    };
  } catch (error) {
    if (!update.changed || options.signal?.aborted) throw error;
    // Swarm would keep retrying (a missing image forever): put the count back, as a failed container start would.
    const note = await updateReplicas(api, name, options.maxUpdateAttempts ?? 5, sleep, async () => update.previous).then(
      () => `; scaled back to ${update.previous}`,
      (rollback: unknown) => `; scaling back to ${update.previous} failed too: ${errorMessage(rollback)}`,
    );
    if (error instanceof ServiceTaskFailedError) throw new ServiceTaskFailedError(name, error.task, note);
    if (error instanceof DockerApiError) throw new DockerApiError(error.message + note, error.statusCode, error.cause);
    throw error;
  }
}

interface UpdateOutcome {
  id: string;
  changed: boolean;
  previous: number;
  replicas: number;
  /** Tasks that existed right before the update: a failure among them is old news. */
  knownTaskIds: Set<string>;
}

/**
 * inspect -> decide -> update with that Spec and Version.Index; on "update out of sequence" start over.
 * decide() returns the count to set, or undefined to inspect again (it waited for something).
 */
async function updateReplicas(
  api: SwarmApi,
  name: string,
  maxAttempts: number,
  sleep: (ms: number) => Promise<void>,
  decide: (info: ServiceInfo, tasks: TaskInfo[]) => Promise<number | undefined>,
): Promise<UpdateOutcome> {
  let conflicts = 0;
  for (;;) {
    const info = await api.inspectService(name);
    if (!info) throw new ServiceNotFoundError(name);
    if (!info.Spec.Mode?.Replicated) {
      throw new DockerApiError(`swarm service "${name}" is not a replicated service; only replicated services can be scaled`);
    }
    const tasks = await api.listTasks(info.ID);
    const wanted = await decide(info, tasks);
    if (wanted === undefined) continue;
    const previous = replicasOf(info);
    const outcome = { id: info.ID, previous, replicas: wanted, knownTaskIds: new Set(tasks.map((t) => t.ID)) };
    if (wanted === previous) return { ...outcome, changed: false };
    const spec: ServiceSpec = { ...info.Spec, Mode: { ...info.Spec.Mode, Replicated: { ...info.Spec.Mode.Replicated, Replicas: wanted } } };
    try {
      await api.updateService(info.ID, info.Version.Index, spec);
      return { ...outcome, changed: true };
    } catch (error) {
      if (!isOutOfSequence(error)) throw error;
      conflicts += 1;
      if (conflicts >= maxAttempts) {
        throw new DockerApiError(
          `swarm service "${name}": update out of sequence ${conflicts} times in a row (other clients keep updating it); gave up`,
          500,
          error,
        );
      }
      await sleep(20 * conflicts);
    }
  }
}

async function waitFor(
  api: SwarmApi,
  serviceId: string,
  wait: { deadline: number; pollMs: number; clock: Clock; sleep: (ms: number) => Promise<void> },
  done: (tasks: TaskInfo[]) => boolean,
  timeoutMessage: (tasks: TaskInfo[]) => string,
): Promise<TaskInfo[]> {
  for (;;) {
    const tasks = await api.listTasks(serviceId);
    if (done(tasks)) return tasks;
    const left = wait.deadline - wait.clock.now();
    if (left <= 0) throw new DockerApiError(timeoutMessage(tasks));
    await wait.sleep(Math.min(wait.pollMs, left));
  }
}

function replicasOf(info: ServiceInfo): number {
  // The engine fills Replicas in (1 when a service is created without it); be lenient anyway.
  return info.Spec.Mode?.Replicated?.Replicas ?? 1;
}

/** The engine answers a stale Version.Index with HTTP 500 "update out of sequence" (not 409). */
export function isOutOfSequence(error: unknown): boolean {
  const e = error as { statusCode?: unknown; json?: { message?: unknown } };
  const text = `${errorMessage(error)} ${typeof e?.json?.message === 'string' ? e.json.message : ''}`;
  return e?.statusCode === 500 && /update out of sequence/i.test(text);
}

function statusOf(error: unknown): number | undefined {
  const code = (error as { statusCode?: unknown })?.statusCode;
  return typeof code === 'number' ? code : undefined;
}
