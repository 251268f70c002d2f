const { preset } = require('../../jest.preset.cjs');
// Integration tests need the Kafka mock cluster (kcat) and, for the warehouse runs of the built CLI,
// a real PostgreSQL: both started once per jest run by test/global-setup.ts.
module.exports = preset(__dirname, {
  integration: { globalSetup: require.resolve('./test/global-setup.ts'), globalTeardown: require.resolve('./test/global-teardown.ts') },
});
