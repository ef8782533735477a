const { availableParallelism } = require('os');

/**
 * Tests run against the TypeScript sources; `npm test` builds first so the handler bundles exist.
 * Sized for a 2-core machine (`npm test` must finish in 6 minutes there): a worker per core there
 * (Jest's default leaves one core to its parent process, which idles while the workers run), the
 * slowest suites first, and ts-jest transpiling each file on its own (type checking is the build's).
 */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  moduleFileExtensions: ['ts', 'js', 'json'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.jest.json' }] },
  maxWorkers: Math.max(2, availableParallelism() - 1),
  testSequencer: '<rootDir>/test/support/slow-first-sequencer.cjs',
  globalSetup: '<rootDir>/test/support/global-setup.cjs',
  setupFilesAfterEnv: ['<rootDir>/test/support/suite-cpu.ts'],
  testTimeout: 60_000,
};
