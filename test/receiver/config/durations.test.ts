/**
 * Issue 15: every duration in the config has a maximum below Node's timer limit (above 2,147,483.647 s a
 * timer fires after 1 ms: `refresh_interval_seconds: 3000000` refreshed continuously).
 */
import { parseConfig } from '../../../receiver/src/config/load';
import { MAX_TIMER_SECONDS, configSchema } from '../../../receiver/src/config/schema';

/** Every `*_seconds` property of the schema, with its JSON path and its bounds. */
function durations(node: any, at: string[] = []): Array<{ at: string[]; maximum?: number }> {
  if (node === null || typeof node !== 'object') return [];
  const found: Array<{ at: string[]; maximum?: number }> = [];
  for (const [key, child] of Object.entries<any>(node.properties ?? {})) {
    if (key.endsWith('_seconds')) found.push({ at: [...at, key], maximum: child.maximum });
    found.push(...durations(child, [...at, key]));
  }
  if (node.additionalProperties && typeof node.additionalProperties === 'object') found.push(...durations(node.additionalProperties, [...at, '*']));
  for (const branch of node.oneOf ?? []) found.push(...durations(branch, at));
  return found;
}

/** A config text with `value` at `at` (a target's fields under targets.t, with its required members). */
function configWith(at: string[], value: number): string {
  const doc: any = { targets: { t: { members: [{ container: 'c' }] } } };
  let node = doc;
  const keys = at[0] === 'targets' ? ['targets', 't', ...at.slice(2)] : at;
  for (const key of keys.slice(0, -1)) node = node[key] ??= {};
  node[keys[keys.length - 1]!] = value;
  return JSON.stringify(doc);
}

const all = durations(configSchema);

test('the schema has the durations we know of (the walk is not vacuous)', () => {
  expect(all.map((d) => d.at.join('.'))).toEqual(expect.arrayContaining([
    'refresh_interval_seconds', 'wake_timeout_seconds', 'shutdown_timeout_seconds', 'docker.timeout_seconds',
    'webhook.dedupe_window_seconds', 'targets.*.min_running_seconds', 'targets.*.cooldown_seconds',
    'targets.*.stop_timeout_seconds', 'targets.*.readiness.timeout_seconds', 'targets.*.readiness.interval_seconds',
    'targets.*.readiness.probe_timeout_seconds',
  ]));
});

test.each(all.map((d) => [d.at.join('.'), d]))('%s has a maximum below the timer limit, and is refused above it', (_name, d) => {
  expect(d.maximum).toBeLessThanOrEqual(MAX_TIMER_SECONDS);
  expect(() => parseConfig(configWith(d.at, d.maximum!))).not.toThrow();
  expect(() => parseConfig(configWith(d.at, d.maximum! + 1))).toThrow(/must be <=/);
});

test('the issue\'s example is refused with the field named', () => {
  expect(() => parseConfig('refresh_interval_seconds: 3000000')).toThrow('/refresh_interval_seconds: must be <= 86400');
});
