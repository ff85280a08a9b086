/**
 * The stack's generated configs are accepted by the real tools (promtool, amtool) and by the receiver,
 * and keep the repository's routing and rules.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import yaml from 'js-yaml';
import { parseConfig } from '../../receiver/src/config/load';
import { parseGatewayConfig } from '../../receiver/src/gateway/config';
import { FAST_RECEIVER_PERIODS, FAST_TIMINGS, NORMAL_RECEIVER_PERIODS, alertmanagerConfig, gatewayConfig, prometheusConfig, receiverConfig, ruleFilesIn } from '../../scripts/stack/config';

let dir: string;
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stack-config-')); });
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, text);
  return file;
}

describe('stack configs', () => {
  it('Prometheus: promtool check config passes, with every rule file of rules/', () => {
    const ruleFiles = ruleFilesIn();
    expect(ruleFiles.map((f) => path.basename(f))).toEqual(expect.arrayContaining(['ai-dispatcher.rules.yml', 'ai-dispatcher.alerts.yml']));
    const file = write('prometheus.yml', prometheusConfig({
      timings: FAST_TIMINGS, ruleFiles, alertmanager: '127.0.0.1:9093',
      targets: [{ job: 'node', address: '127.0.0.1:9100' }, { job: 'ollama', address: '127.0.0.1:9479', metricsPath: '/metrics/ollama' }],
    }));
    const res = spawnSync('promtool', ['check', 'config', file], { encoding: 'utf8' });
    expect(res.stdout + res.stderr).toContain('SUCCESS');
    expect(res.status).toBe(0);
    const parsed = yaml.load(fs.readFileSync(file, 'utf8')) as any;
    expect(parsed.global).toMatchObject({ scrape_interval: '1s', evaluation_interval: '1s' });
    expect(parsed.scrape_configs[1]).toEqual({ job_name: 'ollama', metrics_path: '/metrics/ollama', static_configs: [{ targets: ['127.0.0.1:9479'] }] });
  });

  it('Alertmanager: amtool accepts it; same routes as the repository file, own URL, token file and timings', () => {
    const file = write('alertmanager.yml', alertmanagerConfig({ timings: FAST_TIMINGS, webhookUrl: 'http://127.0.0.1:1234/webhook/alertmanager', credentialsFile: '/tmp/x/token' }));
    const check = spawnSync('amtool', ['check-config', file], { encoding: 'utf8' });
    expect(check.status).toBe(0);
    const route = (labels: string[]) => spawnSync('amtool', ['config', 'routes', 'test', `--config.file=${file}`, ...labels], { encoding: 'utf8' }).stdout.trim();
    expect(route(['alertname=PendingAIWorkflows', 'ai_dispatcher_action=start', 'ai_dispatcher_target=ollama'])).toBe('ai-dispatcher');
    expect(route(['alertname=AIDispatcherReceiverDown'])).toBe('default');
    const parsed = yaml.load(fs.readFileSync(file, 'utf8')) as any;
    const hook = parsed.receivers.find((r: any) => r.name === 'ai-dispatcher').webhook_configs[0];
    expect(hook).toMatchObject({ url: 'http://127.0.0.1:1234/webhook/alertmanager', send_resolved: true, http_config: { authorization: { type: 'Bearer', credentials_file: '/tmp/x/token' } } });
    expect(parsed.route.routes[0]).toMatchObject({ group_wait: '1s', group_interval: '1s', repeat_interval: '60s' });
  });

  it('receiver: its own config loader accepts it', () => {
    const config = parseConfig(receiverConfig({
      listen: '127.0.0.1:9095', dockerHost: 'unix:///tmp/d/docker.sock', container: 'stand-in', readinessUrl: 'http://127.0.0.1:11434/api/tags',
      minRunningSeconds: 5, cooldownSeconds: 1, refreshIntervalSeconds: 1,
    }));
    expect(config.docker.host).toBe('unix:///tmp/d/docker.sock');
    expect(config.targets.get('ollama')?.members).toEqual([{ kind: 'container', name: 'stand-in' }]);
    expect(config.auth.disabled).toBe(false);
  });

  it('receiver in the fast (demo) mode: every period short, the duplicate window too', () => {
    const base = { listen: '127.0.0.1:9095', container: 'stand-in', readinessUrl: 'http://127.0.0.1:11434/api/tags' };
    const fast = parseConfig(receiverConfig({ ...base, ...FAST_RECEIVER_PERIODS }));
    expect(fast.webhook.dedupeWindowSeconds).toBe(5);
    expect(fast.targets.get('ollama')).toMatchObject({ minRunningSeconds: 5, cooldownSeconds: 1 });
    expect(fast.refreshIntervalSeconds).toBe(1);
    const normal = parseConfig(receiverConfig({ ...base, ...NORMAL_RECEIVER_PERIODS }));
    expect(normal.webhook.dedupeWindowSeconds).toBe(120);
    expect(normal.targets.get('ollama')).toMatchObject({ minRunningSeconds: 600, cooldownSeconds: 60 });
  });

  it('gateway: the config the gateway accepts, with the preload when asked (the warm-up benchmark)', () => {
    const base = { listen: '127.0.0.1:11435', ollamaUrl: 'http://127.0.0.1:11434', receiverUrl: 'http://127.0.0.1:9095', pollSeconds: 1 };
    expect(parseGatewayConfig(gatewayConfig(base)).preload).toBeUndefined();
    const preloading = parseGatewayConfig(gatewayConfig({ ...base, preload: { prometheusUrl: 'http://127.0.0.1:9090', pairs: [{ complexity: 'high', task_type: 'analysis' }] } }));
    expect(preloading.preload).toEqual(expect.objectContaining({ prometheusUrl: 'http://127.0.0.1:9090', pairs: [{ complexity: 'high', taskType: 'analysis' }] }));
    expect(preloading.wake).toEqual(expect.objectContaining({ receiverUrl: 'http://127.0.0.1:9095', target: 'ollama' }));
  });
});
