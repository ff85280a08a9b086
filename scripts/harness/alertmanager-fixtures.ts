import fs from 'node:fs';
import path from 'node:path';

/** The byte-exact Alertmanager 0.25 captures (test/fixtures/README.md). */
export const ALERTMANAGER_FIXTURES = path.resolve(__dirname, '../../test/fixtures/alertmanager-0.25');

export function fixtureNames(): string[] {
  return fs
    .readdirSync(ALERTMANAGER_FIXTURES)
    .filter((f) => f.endsWith('.json'))
    .sort();
}

export function fixtureBytes(name: string): Buffer {
  return fs.readFileSync(path.join(ALERTMANAGER_FIXTURES, name));
}

/**
 * The captures carry a prototype's labels (action, ai_lifecycle); this gives the same bytes with the
 * contract's labels (rules/README.md) instead, so that a real capture drives a real action.
 */
export function withContractLabels(body: Buffer | string, action: 'start' | 'stop', target = 'ollama'): string {
  const text = body.toString();
  const prototype = /"action":"(start|stop)_ai_services","ai_lifecycle":"true"/g;
  if (!prototype.test(text)) throw new Error('fixture does not carry the prototype labels');
  return text.replace(prototype, `"ai_dispatcher_action":"${action}","ai_dispatcher_target":"${target}"`);
}
