/// <reference types="jest" />
/**
 * `describeKitContract()`: the one contract suite every kit runs (STYLE §6). One call per kit in
 * `kits/<source>/test/contract.integration.test.ts` registers a jest `describe` covering spec, check,
 * discover, full reads into Parquet and the warehouse compared exactly with golden files, the
 * exact-type table and its coverage of the type map, incremental runs resumed from state, early
 * break, abort, kill -9 and SIGTERM of the built CLI with nothing lost or doubled, bounded memory, and
 * the configuration and state errors. Nothing in it is skipped: a missing fixture is a failure.
 *
 * @example
 * describeKitContract({ kit: postgresKit, main: join(__dirname, '../dist/main.js'), source: postgresSource, fixtures });
 */
import { configErrorCases, discoverCases, specAndCheckCases } from './cases-basics.ts';
import { interruptCases } from './cases-interrupts.ts';
import { fullReadCases, incrementalCases, typeTableCases } from './cases-reads.ts';
import { createSuite } from './suite.ts';
import type { ContractSource, KitContractOptions } from './types.ts';

export type { ContractSource, ContractStream, ContractTarget, KitContractOptions } from './types.ts';
export { readGolden, writeGolden, diffRows, keyMultisetDiff } from './golden.ts';
export { BOUNDED_NODE_OPTIONS, runInProcess, spawnCli, waitFor, FatalWait, type CliResult, type CliChild } from './cli.ts';
export { expectExactKeys, expectExit, expectNoSecrets, keysIn } from './suite.ts';
export { openTarget, type TargetHandle } from './targets.ts';

/** Register the contract suite of a kit (see the module comment). */
export function describeKitContract<C>(opts: KitContractOptions<C>): void {
  describe(`the ${opts.kit.name} kit contract`, () => {
    let source: ContractSource | undefined;
    beforeAll(async () => {
      source = await opts.source('main');
    }, 120_000);
    afterAll(async () => {
      await source?.close();
    });
    const suite = createSuite(opts, () => {
      if (!source) throw new Error('the contract source failed to start (see the beforeAll error)');
      return source;
    });
    it('proves the kit against every bronze target (a target left out is a skipped contract, so a failure)', () => {
      expect([...suite.targets].sort()).toEqual(['parquet', 'warehouse']);
    });
    specAndCheckCases(suite);
    discoverCases(suite);
    configErrorCases(suite);
    fullReadCases(suite);
    typeTableCases(suite);
    incrementalCases(suite);
    interruptCases(suite);
  });
}
