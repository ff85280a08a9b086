/**
 * Two projects. `live`: tests that start a real component (Prometheus, Alertmanager, dockerd or Swarm,
 * promtool/amtool, the local stack) or any child process. `unit`: everything else, fast, for the edit-test
 * loop (`npm run test:unit`). `npm test` runs both.
 *
 * A test file is live when it uses node:child_process or calls one of the harness functions that start a
 * real component (found in its source below), when it is named *-live.test.ts, or when EXPLICIT_LIVE
 * lists it (it starts one through another module).
 */
const fs = require('node:fs');
const path = require('node:path');

const STARTS_SOMETHING =
  /node:child_process|\b(startPrometheus|startAlertmanager|startAlertmanagerCluster|startDockerEngine|startSwarmEngine|startLiveReceiver|startReceiverProcess|startFilteringProxy)\(/;

const EXPLICIT_LIVE = [
  '[-.]live\\.test\\.ts$',
  '/test/e2e/', // the local stack with a private dockerd
  '/test/receiver/fuzz/', // the built receiver on a private dockerd, through scripts/bench
  '/test/dashboards/panels-stack\\.test\\.ts$', // the local stack
];

const escapeRegExp = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const detected = fs
  .readdirSync(path.join(__dirname, 'test'), { recursive: true })
  .filter((f) => f.endsWith('.test.ts'))
  .filter((f) => STARTS_SOMETHING.test(fs.readFileSync(path.join(__dirname, 'test', f), 'utf8')))
  .map((f) => `/test/${escapeRegExp(f.split(path.sep).join('/'))}$`);
const LIVE = [...EXPLICIT_LIVE, ...detected];

const common = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  testTimeout: 30000,
};

module.exports = {
  testTimeout: 30000,
  maxWorkers: 2,
  projects: [
    { ...common, displayName: 'unit', testMatch: ['**/*.test.ts'], testPathIgnorePatterns: ['/node_modules/', ...LIVE] },
    { ...common, displayName: 'live', testRegex: LIVE.map((p) => (p.endsWith('$') ? p : `${p}.*\\.test\\.ts$`)) },
  ],
};
