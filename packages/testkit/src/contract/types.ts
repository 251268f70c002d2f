/**
 * What a kit gives {@link describeKitContract}: the kit, its built CLI, a way to make an isolated
 * source with the fixtures loaded, and the fixtures' expectations. Everything source-specific lives
 * here; the suite itself knows only the contract.
 */
import type { Kit, LogicalType } from '@datakit/core';

/** The bronze targets the suite writes to: Parquet files in a temp dir, a Postgres warehouse database. */
export type ContractTarget = 'parquet' | 'warehouse';

/** An isolated source with the fixtures loaded (a database, a topic prefix, a directory…). */
export interface ContractSource {
  /** The kit's settings for this source, as environment variables (what the CLI reads). */
  env: Record<string, string>;
  /** Settings that make the source reject the credentials, and the setting the message must name. */
  badCredentials: { env: Record<string, string>; setting: string };
  /** Values that must never be printed: passwords, tokens (the good and the bad ones). */
  secrets: string[];
  /**
   * Connections, cursors or handles the kit holds open against the source right now (e.g. rows of
   * `pg_stat_activity` for the kit's user). Used to prove an early `break` and an abort release them.
   */
  openResources?(): Promise<number>;
  /** Drop the source. */
  close(): Promise<void>;
}

/** One fixture stream and its golden output. */
export interface ContractStream {
  /** The stream name as `discover` lists it and `run` takes it. */
  name: string;
  /** Golden rows, relative to `fixtures.dir`. @default `expected/<name>.jsonl` */
  golden?: string;
  /** The primary key `discover` must report (`undefined`: none). Rows are matched by it. */
  primaryKey?: string[];
  /** Columns (in order) and logical types `discover` must report; omitted: only the golden's column names are checked. */
  columns?: [name: string, type: LogicalType][];
  /** Extra settings for this stream's runs (e.g. a cursor setting). */
  env?: Record<string, string>;
  /**
   * Targets that cannot hold this stream's values exactly (e.g. a timestamp past Parquet's int64
   * microseconds). A run into them must fail with exit 4, `DATA.INVALID_RECORD` naming the stream and
   * one of `columns`, and leave nothing visible: a value is refused, never altered.
   */
  refusedBy?: { target: ContractTarget; columns: string[]; reason: string }[];
}

/** Everything {@link describeKitContract} needs. */
export interface KitContractOptions<C> {
  kit: Kit<C>;
  /** Absolute path of the built CLI, `kits/<source>/dist/main.js` (what the image runs). */
  main: string;
  /**
   * A fresh, isolated source named after `label`, with the fixtures loaded. Called once for the
   * read-only cases and once per group that changes data (incremental runs, the large input).
   */
  source(label: string): Promise<ContractSource>;
  /**
   * The targets to prove. A subset helps local work on one target, but the suite then fails its
   * "every bronze target" case: a target left out is a skipped contract. @default ['parquet', 'warehouse']
   */
  targets?: readonly ContractTarget[];
  /** Postgres server for the warehouse (a new database per case). @default env `DATAKIT_TEST_PG_URL` */
  warehouseServerUrl?: () => string;
  fixtures: {
    /** `kits/<source>/test/fixtures`: holds `expected/`, `invalid-config.json`, `corrupt-state.json`. */
    dir: string;
    /** Streams with golden output (read fully into every target and compared exactly). */
    streams: ContractStream[];
    /** Env names that `spec` must mark secret (`writeOnly`). */
    secretSettings: string[];
    /**
     * `invalid-config.json` is a complete config file (`--config`, no settings from the environment)
     * with one bad setting; the error must name this setting (its env name or key).
     */
    invalidConfigSetting: string;
    /** The exact-type table. */
    types: {
      /** The stream reading the type fixture (must also be in `streams`). */
      stream: string;
      /** Every source type the kit's type map handles (`MAPPED_TYPES` of `type-map.ts`). */
      mappedTypes: readonly string[];
      /** Which columns of the type stream hold each mapped type, as the source's catalog says. */
      coveredTypes(source: ContractSource): Promise<Record<string, string[]>>;
      /**
       * Warehouse types (`format_type` text) columns of the type stream must land as, e.g.
       * `{ c_json: 'json', c_money: 'numeric(19,2)' }`. A column the kit declares a `warehouseType`
       * for is compared without `jsonb` normalisation, so `{ c_json: 'json' }` proves the JSON text
       * is stored byte for byte. @default {}
       */
      warehouseTypes?: Readonly<Record<string, string>>;
    };
    /** Incremental runs: the stream, the settings that make it incremental, and new rows. */
    incremental: {
      stream: string;
      env: Record<string, string>;
      /** The key column used to compare the multiset of rows. */
      key: string;
      /**
       * Add `n` rows, some of them tied on the cursor with the newest stored row, and return their
       * keys in canonical form (see `read-back.ts`).
       */
      appendRows(source: ContractSource, n: number): Promise<string[]>;
    };
    /** A large stream for kill -9, SIGTERM, abort and bounded memory. */
    large: {
      stream: string;
      /** Single key column, unique. */
      key: string;
      /** Rows to seed. @default 300_000 */
      rows?: number;
      /** Fill the stream with `rows` rows; return their keys in canonical form. */
      seed(source: ContractSource, rows: number): Promise<string[]>;
    };
  };
}
