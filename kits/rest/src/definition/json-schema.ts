/**
 * The published JSON Schema of API definitions (`schema/api-definition.schema.json`), generated from
 * the zod schema so the two never disagree; a unit test fails when the checked-in file is stale
 * (regenerate with `pnpm --filter @datakit/kit-rest schema`).
 */
import { z } from 'zod';
import { apiDefinitionSchema } from './schema.js';

/** `$id` of the published schema. */
export const API_DEFINITION_SCHEMA_ID = 'urn:datakit:kit-rest:api-definition';

/** The JSON Schema of an API definition (what a user writes: defaults are optional). */
export function apiDefinitionJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(apiDefinitionSchema, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
  return {
    $schema: schema.$schema,
    $id: API_DEFINITION_SCHEMA_ID,
    title: 'Datakits rest kit API definition',
    description: 'One YAML or JSON file describing an HTTP API and its streams for @datakit/kit-rest (REST_CONFIG). Strings may reference environment variables as ${env:NAME}.',
    ...Object.fromEntries(Object.entries(schema).filter(([k]) => k !== '$schema')),
  };
}
