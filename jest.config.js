/** Unit tests and live tests (real Prometheus, Alertmanager, dockerd) run in one jest invocation. */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest'] },
  testTimeout: 30000,
  maxWorkers: 2,
};
