const { preset } = require('../../jest.preset.cjs');
// Integration tests start their own HTTP API (test/server) per file; the CLI tests also write to a
// real PostgreSQL warehouse, started once per run by testkit's global setup.
module.exports = preset(__dirname, {
  integration: { globalSetup: require.resolve('../../packages/testkit/src/jest/global-setup.ts'), globalTeardown: require.resolve('../../packages/testkit/src/jest/global-teardown.ts') },
});
