/**
 * The source types the kit maps to logical types, as `Column.sourceType` names them: what inference
 * produces from text and JSON, and the Parquet logical types kept as they are. The contract suite
 * requires a fixture column (with a value and a NULL) for each.
 *
 * | source type                          | logical type        |
 * |--------------------------------------|---------------------|
 * | `inferred:int64`                     | int64               |
 * | `inferred:decimal(38,s)`             | decimal             |
 * | `inferred:float64`, `parquet:DOUBLE`, `parquet:FLOAT` | float64 |
 * | `inferred:boolean`, `parquet:BOOLEAN` | boolean            |
 * | `inferred:date`, `parquet:DATE`      | date                |
 * | `inferred:time`, `parquet:TIME(MICROS)` | time             |
 * | `inferred:timestamp`, `parquet:TIMESTAMP(MICROS,false)` | timestamp |
 * | `inferred:timestamptz`, `parquet:TIMESTAMP(MICROS,true)` | timestamptz |
 * | `inferred:uuid`, `parquet:UUID`      | uuid                |
 * | `inferred:json`, `parquet:JSON`, nested Parquet (LIST/MAP/struct) | json |
 * | `inferred:string`, `parquet:STRING`  | string              |
 * | `parquet:INT_8/16/32`                | int32               |
 * | `parquet:INT64`                      | int64               |
 * | `parquet:DECIMAL(p,s)`               | decimal(p,s)        |
 * | `parquet:BYTE_ARRAY`                 | bytes               |
 */

/** Type keys of the type map (see the module table); `mappedTypeKey` maps a column to one. */
export const MAPPED_TYPES = [
  'inferred:int64',
  'inferred:decimal',
  'inferred:float64',
  'inferred:boolean',
  'inferred:date',
  'inferred:time',
  'inferred:timestamp',
  'inferred:timestamptz',
  'inferred:uuid',
  'inferred:json',
  'inferred:string',
  'parquet:INT32',
  'parquet:INT64',
  'parquet:DOUBLE',
  'parquet:BOOLEAN',
  'parquet:DECIMAL',
  'parquet:DATE',
  'parquet:TIME',
  'parquet:TIMESTAMP',
  'parquet:TIMESTAMPTZ',
  'parquet:UUID',
  'parquet:JSON',
  'parquet:STRING',
  'parquet:BYTES',
  'parquet:NESTED',
] as const;

/** The type-map key of a column's `sourceType` (undefined for lineage and overrides). */
export function mappedTypeKey(sourceType: string): string | undefined {
  if (sourceType.startsWith('inferred:')) return sourceType.replace(/\(.*$/, '');
  const m = /^parquet:([A-Z_0-9]+)(?:\(([^)]*)\))?/.exec(sourceType);
  if (!m) return undefined;
  const [, t, args] = m;
  if (t === 'TIMESTAMP') return args?.endsWith('true') ? 'parquet:TIMESTAMPTZ' : 'parquet:TIMESTAMP';
  if (/^(U?INT_(8|16|32)|INT32)$/.test(t!)) return 'parquet:INT32';
  if (t === 'FLOAT' || t === 'DOUBLE' || t === 'FLOAT16') return 'parquet:DOUBLE';
  if (t === 'ENUM' || t === 'UTF8') return 'parquet:STRING';
  if (t === 'BYTE_ARRAY' || t === 'FIXED_LEN_BYTE_ARRAY') return 'parquet:BYTES';
  if (t === 'LIST' || t === 'MAP' || t === 'STRUCT') return 'parquet:NESTED';
  return `parquet:${t}`;
}
