/**
 * Docker's own record of what happened to a container, for "nothing was done twice" checks:
 *
 *   const since = Date.now();
 *   ...
 *   await containerEvents(engine, id, ['start', 'die'], since)   // e.g. { start: 1, die: 0 }
 *
 * The engine keeps every event it emitted; `until` = now makes the call return at once.
 */
import type { DockerEngine } from './docker-engine';

export type ContainerEventName = 'create' | 'start' | 'die' | 'stop' | 'kill' | 'destroy' | 'restart';

export async function containerEvents(
  engine: DockerEngine,
  containerId: string,
  names: ContainerEventName[],
  sinceMs: number,
): Promise<Record<string, number>> {
  const stream = (await engine.docker.getEvents({
    since: dockerTimestamp(sinceMs),
    until: dockerTimestamp(Date.now()),
    filters: JSON.stringify({ type: ['container'], event: names, container: [containerId] }),
  } as never)) as unknown as NodeJS.ReadableStream;
  let text = '';
  for await (const chunk of stream) text += chunk.toString();
  const counts: Record<string, number> = Object.fromEntries(names.map((n) => [n, 0]));
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const event = JSON.parse(line) as { status?: string; Action?: string };
    const name = event.Action ?? event.status ?? '';
    if (name in counts) counts[name] += 1;
  }
  return counts;
}

/** Docker reads "seconds.nanoseconds". */
function dockerTimestamp(ms: number): string {
  const whole = Math.floor(ms);
  return `${Math.floor(whole / 1000)}.${String((whole % 1000) * 1_000_000).padStart(9, '0')}`;
}
