/**
 * Two projects. `live`: tests that start a real component (Prometheus, Alertmanager, dockerd or Swarm,
 * promtool/amtool, the receiver as a process, the local stack); a new one goes in LIVE or is named
 * *-live.test.ts. `unit`: everything else, fast, for the edit-test loop (`npm run test:unit`).
 * `npm test` runs both.
 */
const LIVE = [
  '[-.]live\\.test\\.ts$',
  '/test/e2e/',
  '/test/receiver/(faults|ha|integration|fuzz)/',
  '/test/receiver/docker/(dockerode-controller|swarm-service)\\.test\\.ts$',
  '/test/compose/(receiver-image|docker-compose-override|socket-proxy-allowlist)\\.test\\.ts$',
  '/test/receiver/cli\\.test\\.ts$',
  '/test/dashboards/panels-stack\\.test\\.ts$',
  '/test/rules/(threshold-change|alertmanager/alertmanager-config)\\.test\\.ts$',
  '/test/rules/live-prometheus\\.test\\.ts$',
  '/test/stack/(config|short-periods|stack-dry-run)\\.test\\.ts$',
];

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
