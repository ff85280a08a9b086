/**
 * Docker's own record of what happened to containers, for "nothing was done twice" checks:
 *
 *   const since = Date.now();
 *   ...
 *   await containerEvents(engine, id, ['start', 'die'], since)   // e.g. { start: 1, die: 0 }
 *   await serviceEvents(engine, 'ollama', since)                 // a Swarm service's task containers, oldest first
 *
 * The engine keeps every event it emitted; `until` = now makes the call return at once.
 */
import type { DockerEngine } from './docker-engine';

export type ContainerEventName = 'create' | 'start' | 'die' | 'stop' | 'kill' | 'destroy' | 'restart';

interface DockerEvent {
  status?: string;
  Action?: string;
  id: string;
  timeNano: number;
}

/** How many of each named event the engine recorded for this container between sinceMs and now (epoch ms). */
export async function containerEvents(
  engine: DockerEngine,
  containerId: string,
  names: ContainerEventName[],
  sinceMs: number,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (const event of await recordedEvents(engine, sinceMs, { event: names, container: [containerId] })) {
    const name = event.Action ?? event.status ?? '';
    if (name in counts) counts[name] += 1;
  }
  return counts;
}

/** Container start/die events of a Swarm service's tasks between sinceMs and now, oldest first. */
export async function serviceEvents(
  engine: DockerEngine,
  service: string,
  sinceMs: number,
): Promise<Array<{ action: 'start' | 'die'; container: string; atMs: number }>> {
  const events = await recordedEvents(engine, sinceMs, { event: ['start', 'die'], label: [`com.docker.swarm.service.name=${service}`] });
  return events
    .map((e) => ({ action: e.Action as 'start' | 'die', container: e.id, atMs: e.timeNano / 1e6 }))
    .sort((a, b) => a.atMs - b.atMs);
}

/** The container events matching `filters` between sinceMs and now, as the engine recorded them. */
async function recordedEvents(engine: DockerEngine, sinceMs: number, filters: Record<string, string[]>): Promise<DockerEvent[]> {
  const stream = (await engine.docker.getEvents({
    since: dockerTimestamp(sinceMs),
    until: dockerTimestamp(Date.now()),
    filters: JSON.stringify({ type: ['container'], ...filters }),
  } as never)) as unknown as NodeJS.ReadableStream;
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  return text
    .split('\n')
    .filter((line) => line.trim() !== '')
    .map((line) => JSON.parse(line) as DockerEvent);
}

/** Docker reads "seconds.nanoseconds" (the fraction as nanoseconds, not as a decimal fraction). */
function dockerTimestamp(ms: number): string {
  const whole = Math.floor(ms);
  return `${Math.floor(whole / 1000)}.${String((whole % 1000) * 1_000_000).padStart(9, '0')}`;
}
