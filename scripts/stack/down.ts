/**
 * `npm run stack:down [-- --dir DIR]`: stops every process the stack started (pids in DIR/pids, checked to
 * still be ours), receiver before its engine, removes the stand-in container it created, and says so when
 * anything is left. Data and logs stay in DIR for a look afterwards (rm -rf DIR to forget them).
 */
import fs from 'node:fs';
import path from 'node:path';
import { unmountUnder } from '../harness/dockerd';
import { repoRoot } from './config';
import { dockerClient, removeStandInContainer } from './docker';
import { isOurs, readPidRecords, stopRecords, type PidRecord } from './processes';
import { readStackState } from './state';

/** Consumers first, then producers; dockerd last so the receiver never sees its engine vanish mid-action. */
const ORDER = ['prometheus', 'alertmanager', 'receiver', 'standin-exporter', 'node-exporter', 'dockerd'];

export async function down(dir: string, log: (line: string) => void = (l) => console.log(l)): Promise<string[]> {
  const records = readPidRecords(dir).sort((a, b) => rank(a.name) - rank(b.name));
  const state = readStackState(dir);
  const beforeEngine = records.filter((r) => r.name !== 'dockerd');
  const leftovers = await stopRecords(dir, beforeEngine, 15_000, log);
  if (state?.dockerHost && !state.dryRun) {
    const engineRecord = records.find((r) => r.name === 'dockerd');
    if (!engineRecord || isOurs(engineRecord)) {
      const removed = await removeStandInContainer(dockerClient(state.dockerHost), state.container);
      if (removed) log(`removed the stand-in container "${state.container}"`);
    }
  }
  const engines = records.filter((r) => r.name === 'dockerd');
  leftovers.push(...(await stopRecords(dir, engines, 30_000, log)));
  for (const engine of engines) removeExecRoot(engine);
  if (records.length === 0) log(`nothing runs from ${dir}`);
  if (leftovers.length > 0) log(`still running: ${leftovers.join(', ')}`);
  else if (records.length > 0) log(`stack stopped; data and logs stay in ${dir}`);
  return leftovers;
}

/** The private dockerd's exec root lives in the temp dir (short socket paths); forget it once dockerd is gone. */
function removeExecRoot(engine: PidRecord): void {
  const at = engine.args.indexOf('--exec-root');
  const execRoot = at >= 0 ? engine.args[at + 1] : undefined;
  if (execRoot && path.basename(execRoot).startsWith('aid-stack-') && !isOurs(engine)) {
    unmountUnder(execRoot); // dockerd leaves its netns bind mount behind
    fs.rmSync(execRoot, { recursive: true, force: true });
  }
}

function rank(name: string): number {
  const i = ORDER.indexOf(name);
  return i === -1 ? ORDER.length : i;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--dir');
  const dir = at >= 0 && args[at + 1] ? path.resolve(args[at + 1]) : path.join(repoRoot, '.stack');
  down(dir).then((left) => process.exit(left.length > 0 ? 1 : 0), (err) => {
    console.error(err);
    process.exit(1);
  });
}
