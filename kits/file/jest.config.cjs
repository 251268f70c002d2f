const { preset } = require('../../jest.preset.cjs');
module.exports = preset(__dirname, {
  integration: { globalSetup: require.resolve('../../packages/testkit/src/jest/global-setup.ts'), globalTeardown: require.resolve('../../packages/testkit/src/jest/global-teardown.ts') },
});
