/**
 * The Confluent-compatible schema registry (`SCHEMA_REGISTRY_URL`, basic auth) through
 * `@kafkajs/confluent-schema-registry`: writer schemas by id (cached for the run), and the latest
 * schema of a topic's subject (`<topic>-value` / `<topic>-key`, the TopicNameStrategy) for discover.
 */
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import type avro from 'avsc';
import { DatakitError, redactor, type ErrorCode } from '@datakit/core';
import { exactTypeHook } from './avro.js';
import type { KafkaKitConfig } from './config.js';

/** The registry has no such schema id (the message is poison) or subject (nothing registered yet). */
export class RegistryNotFound extends Error {
  override readonly name = 'RegistryNotFound';
}

interface ResponseErrorLike {
  name?: string;
  status?: number;
  message?: string;
}

/** A registry failure as a DatakitError (network, auth, server), or RegistryNotFound for a 404. */
export function registryError(e: unknown, what: string): Error {
  const r = (e ?? {}) as ResponseErrorLike;
  const message = redactor.scrub(String(r.message ?? e));
  if (r.status === 404) return new RegistryNotFound(`${what}: ${message}`);
  let code: ErrorCode = 'SOURCE.QUERY_FAILED';
  let fix: string | undefined;
  if (r.status === 401 || r.status === 403) {
    code = 'SOURCE.AUTH_FAILED';
    fix = 'check SCHEMA_REGISTRY_USERNAME and SCHEMA_REGISTRY_PASSWORD';
  } else if ((r.status === 400 && /ECONN|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|socket hang up|timeout/i.test(message)) || r.status === undefined) {
    code = 'SOURCE.UNREACHABLE';
    fix = 'check SCHEMA_REGISTRY_URL and the network';
  } else if (r.status === 408 || r.status === 429 || (r.status !== undefined && r.status >= 500)) {
    code = 'SOURCE.TRANSIENT';
  }
  return new DatakitError(code, `schema registry: ${what}: ${message}`, { cause: e, where: { kit: 'kafka' }, ...(fix ? { fix } : {}) });
}

/** Writer schemas by id and latest schemas by subject, cached for the life of the object. */
export class Registry {
  private readonly client: SchemaRegistry;
  private readonly byId = new Map<number, Promise<avro.Type>>();

  constructor(config: KafkaKitConfig) {
    const url = new URL(config.schemaRegistryUrl!);
    const username = config.schemaRegistryUsername ?? (url.username ? decodeURIComponent(url.username) : undefined);
    const password = config.schemaRegistryPassword ?? (url.password ? decodeURIComponent(url.password) : undefined);
    url.username = '';
    url.password = '';
    this.client = new SchemaRegistry(
      {
        host: url.toString().replace(/\/$/, ''),
        clientId: 'datakit-kafka',
        retry: { retries: 2, maxRetryTimeInSecs: 2 },
        ...(username !== undefined ? { auth: { username, password: password ?? '' } } : {}),
      },
      { [SchemaType.AVRO]: { typeHook: exactTypeHook as never } },
    );
  }

  /**
   * The writer schema with this id as an exact avsc type.
   * @throws RegistryNotFound when the registry has no such id; a DatakitError when it cannot answer.
   */
  schema(id: number): Promise<avro.Type> {
    let p = this.byId.get(id);
    if (!p) {
      p = this.client.getSchema(id).then(
        (s) => {
          if (typeof (s as Partial<avro.Type>).fromBuffer !== 'function' || !('typeName' in s)) throw new RegistryNotFound(`schema id ${id} is not an Avro schema`);
          return s as unknown as avro.Type;
        },
        (e: unknown) => {
          throw registryError(e, `schema id ${id}`);
        },
      );
      // a transient failure must not be cached: the next message asks again
      p.catch((e: unknown) => {
        if (!(e instanceof RegistryNotFound)) this.byId.delete(id);
      });
      this.byId.set(id, p);
    }
    return p;
  }

  /** The latest schema of a subject, or `undefined` when the subject has none. */
  async latest(subject: string): Promise<avro.Type | undefined> {
    let id: number;
    try {
      id = await this.client.getLatestSchemaId(subject);
    } catch (e) {
      const err = registryError(e, `subject ${subject}`);
      if (err instanceof RegistryNotFound) return undefined;
      throw err;
    }
    return this.schema(id);
  }
}
