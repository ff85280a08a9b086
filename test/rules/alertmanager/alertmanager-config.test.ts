/**
 * rules/alertmanager/alertmanager.yml, checked by the real amtool: the config loads, lifecycle alerts
 * route to the receiver (and only they do), and the webhook carries bearer credentials and send_resolved.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import yaml from 'js-yaml';

const configFile = path.join(__dirname, '../../../rules/alertmanager/alertmanager.yml');

function amtool(...args: string[]) {
  return spawnSync('amtool', args, { encoding: 'utf8' });
}

function routeFor(labels: Record<string, string>): string {
  const res = amtool('config', 'routes', 'test', `--config.file=${configFile}`,
    ...Object.entries(labels).map(([k, v]) => `${k}=${v}`));
  expect(res.status).toBe(0);
  return res.stdout.trim();
}

describe('Alertmanager config', () => {
  it('passes amtool check-config', () => {
    const res = amtool('check-config', configFile);
    expect(res.stderr + res.stdout).toContain('SUCCESS');
    expect(res.status).toBe(0);
  });

  it.each([
    ['PendingAIWorkflows', 'start'],
    ['AIServicesIdleTooLong', 'stop'],
  ])('routes %s (action %s) to the ai-dispatcher receiver', (alertname, action) => {
    expect(routeFor({ alertname, ai_dispatcher_action: action, ai_dispatcher_target: 'ollama', severity: 'info' }))
      .toBe('ai-dispatcher');
  });

  it.each([
    [{ alertname: 'AIServiceHighResourceUsage', severity: 'warning' }],
    [{ alertname: 'ReceiverDown', severity: 'critical' }],
    // A lifecycle-looking alert with an action the receiver does not know is not sent to it.
    [{ alertname: 'Odd', ai_dispatcher_action: 'restart', ai_dispatcher_target: 'ollama' }],
    // No target label: nothing for the receiver to select.
    [{ alertname: 'Odd', ai_dispatcher_action: 'start' }],
  ])('routes everything else to the default receiver: %j', (labels) => {
    expect(routeFor(labels)).toBe('default');
  });

  it('sends to the receiver with bearer credentials from a file and with send_resolved', () => {
    const config = yaml.load(readFileSync(configFile, 'utf8')) as any;
    const receiver = config.receivers.find((r: any) => r.name === 'ai-dispatcher');
    expect(receiver.webhook_configs).toHaveLength(1);
    const hook = receiver.webhook_configs[0];
    expect(hook.send_resolved).toBe(true);
    expect(new URL(hook.url).pathname).toBe('/webhook/alertmanager');
    expect(hook.http_config.authorization.type).toBe('Bearer');
    expect(hook.http_config.authorization.credentials_file).toMatch(/^\//);
    // The secret never sits in the file itself.
    expect(hook.http_config.authorization.credentials).toBeUndefined();
  });

  it('inhibits a stop for a target while a start for the same target fires', () => {
    const config = yaml.load(readFileSync(configFile, 'utf8')) as any;
    expect(config.inhibit_rules).toEqual([
      { source_matchers: ['ai_dispatcher_action="start"'], target_matchers: ['ai_dispatcher_action="stop"'], equal: ['ai_dispatcher_target'] },
    ]);
  });
});
