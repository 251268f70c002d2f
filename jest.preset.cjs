// Shared jest setup for every workspace package: TypeScript through swc (no type-check in tests;
// `pnpm typecheck` does that), `@datakit/*` mapped to sources so tests need no build, and the two
// projects the conventions name: `*.unit.test.ts` and `*.integration.test.ts`.
const path = require('node:path');

const root = __dirname;
// ESM-only packages that jest's CommonJS module system must transform.
const esmOnly = ['hyparquet', 'hyparquet-writer'];

const transform = {
  '^.+\\.(t|j|mj)sx?$': [
    require.resolve('@swc/jest', { paths: [root] }),
    {
      jsc: { parser: { syntax: 'typescript' }, target: 'es2023' },
      module: { type: 'commonjs' },
    },
  ],
};

const common = {
  transform,
  transformIgnorePatterns: [`/node_modules/(?!(\\.pnpm/)?(${esmOnly.join('|')})[@/])`],
  moduleFileExtensions: ['ts', 'js', 'mjs', 'cjs', 'json'],
  moduleNameMapper: {
    '^@datakit/core$': path.join(root, 'packages/core/src/index.ts'),
    '^@datakit/core/(.*)$': path.join(root, 'packages/core/src/$1'),
    '^@datakit/testkit$': path.join(root, 'packages/testkit/src/index.ts'),
    '^@datakit/kit-([a-z0-9-]+)$': path.join(root, 'kits/$1/src/index.ts'),
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testEnvironment: 'node',
};

/**
 * @param {string} dir the package directory (`__dirname` of its jest.config.cjs)
 * @param {{ integration?: { globalSetup?: string, globalTeardown?: string, testTimeout?: number } }} [opts]
 */
function preset(dir, opts = {}) {
  const integration = opts.integration ?? {};
  return {
    rootDir: dir,
    // a global option: jest ignores testTimeout inside a project's config (tests there got 5 s)
    testTimeout: integration.testTimeout ?? 120_000,
    projects: [
      { ...common, displayName: 'unit', rootDir: dir, testMatch: ['<rootDir>/**/*.unit.test.ts'], testPathIgnorePatterns: ['/node_modules/', '/dist/'] },
      {
        ...common,
        displayName: 'integration',
        rootDir: dir,
        testMatch: ['<rootDir>/**/*.integration.test.ts'],
        testPathIgnorePatterns: ['/node_modules/', '/dist/'],
        ...(integration.globalSetup ? { globalSetup: integration.globalSetup } : {}),
        ...(integration.globalTeardown ? { globalTeardown: integration.globalTeardown } : {}),
      },
    ],
  };
}

module.exports = { preset, common };
