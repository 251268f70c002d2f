const { preset } = require('../../jest.preset.cjs');
module.exports = preset(__dirname, {
  integration: { globalSetup: require.resolve('../testkit/src/jest/global-setup.ts'), globalTeardown: require.resolve('../testkit/src/jest/global-teardown.ts') },
});
