/**
 * Avro types → logical types (the decoded values are described in avro.ts). Keys and values in the
 * `bytes`, `string` and `json` formats are one column of that logical type.
 */
import type { LogicalType } from '@datakit/core';

/** Avro primitive and complex types → logical type. Records, arrays, maps and multi-branch unions are JSON. */
export const AVRO_TYPES: Readonly<Record<string, LogicalType>> = {
  boolean: 'boolean',
  int: 'int32',
  long: 'int64',
  float: 'float64',
  double: 'float64',
  string: 'string',
  enum: 'string',
  bytes: 'bytes',
  fixed: 'bytes',
  record: 'json',
  array: 'json',
  map: 'json',
  union: 'json',
};

/** Avro logical types → logical type (`decimal` takes the schema's precision and scale). */
export const AVRO_LOGICAL_TYPES: Readonly<Record<string, LogicalType | 'decimal'>> = {
  decimal: 'decimal',
  date: 'date',
  'time-millis': 'time',
  'time-micros': 'time',
  'timestamp-millis': 'timestamptz',
  'timestamp-micros': 'timestamptz',
  'local-timestamp-millis': 'timestamp',
  'local-timestamp-micros': 'timestamp',
  uuid: 'uuid',
};

/** Every source type the kit maps (the contract's type fixture must cover each, with a NULL variant). */
export const MAPPED_TYPES: readonly string[] = [...Object.keys(AVRO_TYPES), ...Object.keys(AVRO_LOGICAL_TYPES)];
