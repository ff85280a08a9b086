/**
 * scripts/install-deps.sh with stand-ins for apt-get and systemctl (a PATH without the installed tools): it installs
 * what the command needs and says why, denies service starts during the install, and leaves no system service
 * enabled that was not enabled before. The stand-in apt-get behaves like Debian's packages: it enables their units.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const script = path.join(__dirname, '../../scripts/install-deps.sh');
/** The script checks /bin/busybox by its absolute path: on a machine without it, busybox-static is installed too. */
const busybox = spawnSync('bash', ['-c', '/bin/busybox --list | grep -x httpd'], { encoding: 'utf8' }).status === 0 ? '' : ' busybox-static';
const PACKAGE_UNITS: Record<string, string[]> = {
  prometheus: ['prometheus.service'],
  'prometheus-alertmanager': ['prometheus-alertmanager.service'],
  'prometheus-node-exporter': ['prometheus-node-exporter.service', 'prometheus-node-exporter-apt.timer'],
  'docker.io': ['docker.service', 'docker.socket'],
  wrk: [],
  'nginx-light': ['nginx.service'],
  chromium: [],
  'busybox-static': [],
};

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'install-deps-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

/** Runs the script with only the given tools "installed"; systemd starts with `enabled` enabled. */
function run(args: string[], o: { installed?: string[]; enabled?: string[]; systemd?: boolean } = {}) {
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin);
  for (const tool of ['bash', 'env', 'dirname', 'awk', 'sort', 'comm', 'chmod', 'rm', 'cat', 'grep', 'mkdir']) {
    fs.symlinkSync(spawnSync('bash', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).stdout.trim(), path.join(bin, tool));
  }
  const state = path.join(dir, 'enabled');
  const log = path.join(dir, 'log');
  const policy = path.join(dir, 'policy-rc.d');
  fs.writeFileSync(state, (o.enabled ?? []).map((u) => `${u}\n`).join(''));
  const stub = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), `#!/bin/bash\n${body}\n`, { mode: 0o755 });
  for (const tool of o.installed ?? []) stub(tool, 'exit 0');
  const units = Object.entries(PACKAGE_UNITS).map(([p, u]) => `[${p}]="${u.join(' ')}"`).join(' ');
  stub('apt-get', `
echo "apt-get $*" >> ${log}
[ "$1" = install ] || exit 0
"${policy}" prometheus start; echo "policy-rc.d answered $?" >> ${log}
declare -A units=(${units})
for p in "$@"; do for u in \${units[$p]:-}; do grep -qx "$u" ${state} || echo "$u" >> ${state}; done; done`);
  if (o.systemd !== false) {
    stub('systemctl', `
echo "systemctl $*" >> ${log}
case "$1" in
  list-unit-files) while read -r u; do [ -n "$u" ] && echo "$u enabled enabled"; done < ${state} ;;
  disable) unit="\${@: -1}"; grep -vx "$unit" ${state} > ${state}.new || true; mv ${state}.new ${state} ;;
esac`);
    fs.symlinkSync(spawnSync('bash', ['-c', 'command -v mv'], { encoding: 'utf8' }).stdout.trim(), path.join(bin, 'mv'));
  }
  const res = spawnSync('bash', [script, ...args], { encoding: 'utf8', env: { PATH: bin, AI_DISPATCHER_POLICY_RC_D: policy } });
  const read = (f: string) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : '');
  return {
    status: res.status, out: res.stdout + res.stderr, log: read(log).split('\n').filter(Boolean),
    enabled: read(state).split('\n').filter(Boolean).sort(), policyLeft: fs.existsSync(policy),
  };
}

describe('scripts/install-deps.sh', () => {
  it('stack: installs what npm run stack runs, says why, and leaves no new system service enabled', () => {
    const r = run(['stack'], { enabled: ['ssh.service', 'prometheus-node-exporter.service'] });
    expect(r.status).toBe(0);
    expect(r.log).toContain(`apt-get install -y -qq --no-install-recommends prometheus prometheus-alertmanager prometheus-node-exporter${busybox}`);
    expect(r.out).toMatch(/installing Debian packages for npm run stack:\n {2}prometheus +evaluates the rules/);
    expect(r.out).toMatch(/prometheus-alertmanager +routes the lifecycle alerts to the receiver/);
    // Service starts were denied during the install; the hook written for it is gone afterwards.
    expect(r.log).toContain('policy-rc.d answered 101');
    expect(r.policyLeft).toBe(false);
    // What the install enabled is disabled and stopped; what was enabled before stays enabled.
    expect(r.log).toEqual(expect.arrayContaining(['systemctl disable --now prometheus.service', 'systemctl disable --now prometheus-alertmanager.service', 'systemctl disable --now prometheus-node-exporter-apt.timer']));
    expect(r.log).not.toContain('systemctl disable --now prometheus-node-exporter.service');
    expect(r.enabled).toEqual(['prometheus-node-exporter.service', 'ssh.service']);
    expect(r.out).toContain('disabled the system service prometheus.service that the install enabled');
  });

  it('stack: no wrk and no dockerd; dockerd only with --private-docker', () => {
    if (busybox === '') expect(run(['stack'], { installed: ['prometheus', 'prometheus-alertmanager', 'prometheus-node-exporter'] }).log).toEqual([]);
    else fs.mkdirSync(path.join(dir, 'bin'));
    fs.rmSync(path.join(dir, 'bin'), { recursive: true });
    const r = run(['stack', '--private-docker'], { installed: ['prometheus', 'prometheus-alertmanager', 'prometheus-node-exporter'] });
    expect(r.log).toContain(`apt-get install -y -qq --no-install-recommends${busybox} docker.io`);
    expect(r.enabled).toEqual([]);
  });

  it('all (the default, .ci/run): everything the tests and the benchmarks run, wrk, nginx and chromium included', () => {
    const r = run([], { installed: ['prometheus-alertmanager'] });
    expect(r.log).toContain(`apt-get install -y -qq --no-install-recommends prometheus prometheus-node-exporter${busybox} docker.io wrk nginx-light chromium`);
    expect(r.out).toMatch(/disabled the system service nginx.service/);
    expect(r.out).toMatch(/wrk +the load generator of scripts\/bench\/receiver-throughput.ts/);
    expect(r.enabled).toEqual([]);
  });

  it('without systemd tools: installs with starts denied and nothing else to undo', () => {
    const r = run(['stack'], { systemd: false });
    expect(r.status).toBe(0);
    expect(r.log).toContain('policy-rc.d answered 101');
    expect(r.policyLeft).toBe(false);
  });

  it('refuses an unknown command', () => {
    const r = run(['benches']);
    expect(r.status).toBe(2);
    expect(r.out).toContain('usage: scripts/install-deps.sh');
  });
});
