const { preset } = require('../../jest.preset.cjs');

const config = preset(__dirname, {
  integration: { globalSetup: require.resolve('./test/global-setup.ts'), globalTeardown: require.resolve('../../packages/testkit/src/jest/global-teardown.ts') },
});
// ESM-only packages this kit adds to the preset's list (transformed for jest's CommonJS runtime)
const esmOnly = ['hyparquet', 'hyparquet-writer', 'hyparquet-compressors', 'hysnappy', 'fzstd'];
for (const p of config.projects) p.transformIgnorePatterns = [`/node_modules/(?!(\\.pnpm/)?(${esmOnly.join('|')})[@/])`];
// jest reads testTimeout from the top-level config only
config.testTimeout = 120_000;
module.exports = config;
