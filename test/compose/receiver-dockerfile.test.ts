/**
 * receiver/Dockerfile, read structurally (no registry here for the base image; receiver-image.test.ts builds and
 * runs the final stage over a local stand-in base):
 * a non-root runtime with a healthcheck, a command that matches the package's bin and the build output,
 * and a build context that only ships what the image needs.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { RECEIVER_NODE_FLAGS } from '../../receiver/src/node-flags';
import { copyOperands, execForm, parseDockerfile } from './dockerfile';

const repoRoot = path.join(__dirname, '../..');
const dockerfile = parseDockerfile(readFileSync(path.join(repoRoot, 'receiver/Dockerfile'), 'utf8'));
const runtime = dockerfile.stages[dockerfile.stages.length - 1];
const pkg = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8'));
const tsconfigBuild = JSON.parse(readFileSync(path.join(repoRoot, 'tsconfig.build.json'), 'utf8'));
const tsconfig = JSON.parse(readFileSync(path.join(repoRoot, 'tsconfig.json'), 'utf8'));

const last = (keyword: string) => [...runtime.instructions].reverse().find((i) => i.keyword === keyword);

/** .dockerignore semantics for the patterns we use: later lines win, `!` re-includes, `dir/` covers its files. */
function ignored(file: string): boolean {
  const lines = readFileSync(path.join(repoRoot, '.dockerignore'), 'utf8').split('\n').map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  let result = false;
  for (const line of lines) {
    const negate = line.startsWith('!');
    const pattern = (negate ? line.slice(1) : line).replace(/\/$/, '');
    const re = new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*') + '(/.*)?$');
    if (re.test(file)) result = !negate;
  }
  return result;
}

describe('receiver/Dockerfile', () => {
  it('has a build stage and a separate runtime stage from a pinned Node 20 base', () => {
    expect(dockerfile.stages.length).toBeGreaterThanOrEqual(2);
    const base = dockerfile.args.find((a) => a.keyword === 'ARG' && a.args.startsWith('NODE_IMAGE='));
    expect(base?.args).toMatch(/^NODE_IMAGE=node:20[.-]/);
    for (const stage of dockerfile.stages) expect(stage.from).not.toMatch(/:latest$/);
  });

  it('runs as a non-root user in the final stage', () => {
    const user = last('USER');
    expect(user).toBeDefined();
    expect(user!.args).not.toMatch(/^(root|0)(:|$)/);
  });

  it('has a healthcheck against /healthz on the port it listens on', () => {
    const health = last('HEALTHCHECK');
    expect(health).toBeDefined();
    expect(health!.args).not.toMatch(/^NONE/);
    const cmd = execForm(last('CMD')!.args);
    const listen = cmd[cmd.indexOf('--listen') + 1];
    const port = listen.split(':').pop();
    expect(health!.args).toContain(`127.0.0.1:${port}/healthz`);
    expect(last('EXPOSE')!.args.split(/\s+/)).toContain(port);
  });

  it('starts the package bin, with the receiver\'s node flags, the receiver subcommand and a config file', () => {
    const entry = execForm(last('ENTRYPOINT')!.args);
    expect(entry).toEqual(['node', ...RECEIVER_NODE_FLAGS, pkg.bin['ai-dispatcher']]);
    const cmd = execForm(last('CMD')!.args);
    expect(cmd[0]).toBe('receiver');
    expect(cmd).toContain('--config');
    // The bin is the compiled cli: tsconfig.build.json compiles receiver/src into dist/.
    expect(tsconfig.compilerOptions.outDir).toBe('dist');
    expect(tsconfigBuild.include).toContain('receiver/src/**/*.ts');
    expect(pkg.bin['ai-dispatcher']).toBe('dist/receiver/src/cli.js');
    expect(pkg.scripts.build).toContain('tsconfig.build.json');
  });

  it('ships only production dependencies in the runtime stage', () => {
    const build = dockerfile.stages[0];
    expect(build.instructions.some((i) => i.keyword === 'RUN' && /npm ci\b/.test(i.args))).toBe(true);
    expect(build.instructions.some((i) => i.keyword === 'RUN' && /npm prune --omit=dev/.test(i.args))).toBe(true);
    expect(runtime.instructions.some((i) => i.keyword === 'RUN' && /npm (ci|install)/.test(i.args))).toBe(false);
  });

  it('copies only files that exist and that .dockerignore lets into the context', () => {
    const fromContext = dockerfile.stages.flatMap((s) => s.instructions)
      .filter((i) => i.keyword === 'COPY' && !copyOperands(i.args).flags.some((f) => f.startsWith('--from')))
      .flatMap((i) => copyOperands(i.args).sources);
    expect(fromContext.length).toBeGreaterThan(0);
    for (const source of fromContext) {
      expect(existsSync(path.join(repoRoot, source))).toBe(true);
      expect([source, ignored(source)]).toEqual([source, false]);
    }
    expect(dockerfile.stages.flatMap((s) => s.instructions).some((i) => i.keyword === 'ADD')).toBe(false);
  });

  it.each(['node_modules/express/package.json', '.git/HEAD', '.stack/prometheus.yml', 'dist/receiver/src/cli.js',
    'test/compose/dockerfile.ts', 'ai-dispatcher.token', 'README.md'])('keeps %s out of the build context', (file) => {
    expect(ignored(file)).toBe(true);
  });
});
