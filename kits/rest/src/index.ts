/**
 * `@datakit/kit-rest`: declarative HTTP API extraction into bronze. See docs/kits/rest.md.
 */
export { restKit } from './kit.js';
export { restConfig, type RestKitConfig } from './config.js';
export { apiDefinitionSchema, type ApiDefinition, type StreamDefinition } from './definition/schema.js';
export { loadDefinition, parseDefinition, type LoadedDefinition } from './definition/load.js';
export { parseExact, parseNdjson, type JsonValue } from './json.js';
export { RequestBudget } from './http/budget.js';
export { apiDefinitionJsonSchema } from './definition/json-schema.js';
