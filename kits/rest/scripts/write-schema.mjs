// Regenerate schema/api-definition.schema.json from the built zod schema (run `pnpm schema`).
import { writeFileSync } from 'node:fs';
import { apiDefinitionJsonSchema } from '../dist/definition/json-schema.js';

const target = new URL('../schema/api-definition.schema.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(apiDefinitionJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
