/** npm run stack's options: each documented one parses, and anything else is refused with a pointer to the docs. */
import path from 'node:path';
import { FAST_TIMINGS } from '../../scripts/stack/config';
import { DEMO_PERIODS } from '../../scripts/stack/short-periods';
import { parseUpArgs } from '../../scripts/stack/up';

describe('npm run stack options', () => {
  it('defaults to ./.stack, normal intervals, the engine from the environment', () => {
    const o = parseUpArgs([]);
    expect(o).toMatchObject({ fast: false, dryRun: false, privateDocker: false, container: 'ai-dispatcher-ollama-stand-in' });
    expect(o.dir).toBe(path.join(__dirname, '../../.stack'));
    expect(o.shortPeriods).toBeUndefined();
    expect(FAST_TIMINGS.scrapeSeconds).toBe(1);
  });

  it('--demo is --fast --short-periods --stand-in-node', () => {
    expect(parseUpArgs(['--demo'])).toMatchObject({ fast: true, standInNode: true, shortPeriods: DEMO_PERIODS });
  });

  it('parses the others', () => {
    expect(parseUpArgs(['--dir', 'x', '--dry-run', '--private-docker', '--container', 'ollama', '--free-ports', '--rules', 'r']))
      .toMatchObject({ dir: path.resolve('x'), dryRun: true, privateDocker: true, container: 'ollama', anyPorts: true, rulesDir: path.resolve('r') });
  });

  it('refuses unknown options and missing values', () => {
    expect(() => parseUpArgs(['--fsat'])).toThrow('unknown option --fsat (see scripts/README.md or scripts/stack/up.ts)');
    expect(() => parseUpArgs(['--dir'])).toThrow('--dir needs a value');
  });
});
