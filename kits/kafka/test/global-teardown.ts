/** Jest globalTeardown: stop the services global-setup.ts started. */
export { default } from '../../../packages/testkit/src/jest/global-teardown.ts';
