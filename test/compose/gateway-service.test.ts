/**
 * The ollama-gateway service of docker-compose.override.yml: least privilege (non-root, read-only, no Docker
 * socket, no capabilities), only the receiver's wake API with the shared secret, and a mounted configuration
 * the gateway's own loader accepts, pointing at Ollama by service name and at the receiver.
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadGatewayConfigFile } from '../../receiver/src/gateway/config';
import { loadInterpolated, mountsOf, networksOf, repoRoot } from './compose-file';

const services = loadInterpolated().services as Record<string, any>;
const gateway = services['ollama-gateway'];

describe('the ollama-gateway service', () => {
  it('runs the receiver image\'s `gateway` command as a non-root user, read-only, without capabilities', () => {
    expect(gateway.image).toBe(services['ai-dispatcher'].image);
    expect(gateway.command.slice(0, 1)).toEqual(['gateway']);
    expect(gateway.user).toMatch(/^[1-9][0-9]*:[0-9]+$/);
    expect(gateway.read_only).toBe(true);
    expect(gateway.cap_drop).toEqual(['ALL']);
    expect(gateway.security_opt).toContain('no-new-privileges:true');
    expect(gateway.mem_limit).toMatch(/^[0-9]+m$/);
    expect(gateway.logging).toEqual(services['ai-dispatcher'].logging);
  });

  it('never reaches Docker: no socket mount, no DOCKER_HOST, not on the socket proxy\'s network', () => {
    for (const m of mountsOf(gateway)) expect(m.source).not.toMatch(/docker\.sock/);
    expect(gateway.environment?.DOCKER_HOST).toBeUndefined();
    expect(networksOf(gateway)).not.toContain('docker-api');
    expect(networksOf(gateway)).not.toContain('alerting');
  });

  it('reads the receiver\'s token from the secret file and mounts a config the gateway accepts', () => {
    expect(gateway.secrets).toEqual(['ai_dispatcher_token']);
    expect(gateway.environment.AI_DISPATCHER_TOKEN_FILE).toBe('/run/secrets/ai_dispatcher_token');
    expect(gateway.environment.AI_DISPATCHER_TOKEN).toBeUndefined();
    const mount = mountsOf(gateway).find((m) => m.target === gateway.command[gateway.command.indexOf('--config') + 1])!;
    expect(mount.readOnly).toBe(true);
    const config = loadGatewayConfigFile(path.join(repoRoot, mount.source.replace(/^\.\//, '')));
    expect(config.upstream.url.origin).toBe('http://ollama:11434');
    expect(config.wake).toEqual({ receiverUrl: `http://ai-dispatcher:${services['ai-dispatcher'].expose[0]}`, target: 'ollama', timeoutMs: expect.any(Number) });
    expect(config.wake!.timeoutMs).toBeLessThan(config.admission.holdTimeoutMs + 1);
    expect(gateway.expose).toEqual([String(config.listen.port)]);
    expect(gateway.healthcheck.test.join(' ')).toContain(`127.0.0.1:${config.listen.port}/metrics`);
  });
});

test('the README\'s prometheus.yml snippet scrapes the gateway as job="ollama"', () => {
  const readme = fs.readFileSync(path.join(repoRoot, 'receiver', 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Adding it to a Docker Compose stack'));
  const snippet = section.slice(section.indexOf('```yaml'), section.indexOf('```', section.indexOf('```yaml') + 7));
  expect(snippet).toMatch(/job_name: ollama[^\n]*\n\s*static_configs: \[\{targets: \['ollama-gateway:11434'\]\}\]/);
  expect(gateway.expose).toEqual(['11434']);
});
