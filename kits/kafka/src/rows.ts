/**
 * Kafka messages → bronze rows: lineage cells, the decoded key and value, and the poison policy (fail
 * with the message's topic, partition and offset, or set it aside with its raw bytes for the stream's
 * quarantine output).
 */
import { DatakitError, type Column, type Row } from '@datakit/core';
import type { KafkaKitConfig } from './config.js';
import { PoisonError, type Decoder } from './decode.js';
import { headersJson } from './json.js';
import type { WireMessage } from './wire.js';

/** Builds the rows of one topic. */
export class RowBuilder {
  /** Messages quarantined so far. */
  quarantined = 0;
  /** Rows of the quarantine output not yet taken ({@link RowBuilder.takeQuarantined}). */
  private held: Row[] = [];
  private readonly quarantine: boolean;

  /**
   * @param fixed the stream's lineage columns, as discover gave them
   */
  constructor(
    private readonly topic: string,
    config: Pick<KafkaKitConfig, 'poisonPolicy'>,
    private readonly fixed: Column[],
    readonly key: Decoder,
    readonly value: Decoder,
  ) {
    this.quarantine = config.poisonPolicy === 'quarantine';
  }

  /** The stream's columns as the decoders know them now. */
  columns(): Column[] {
    return [...this.fixed, ...this.value.columns];
  }

  /** Fetch the writer schemas these messages need (Avro); a no-op for the other formats. */
  async prepare(messages: WireMessage[]): Promise<void> {
    await this.key.prepare(messages.map((m) => m.key));
    await this.value.prepare(messages.map((m) => m.value));
  }

  /** The rows of the quarantine output since the last call. */
  takeQuarantined(): Row[] {
    const rows = this.held;
    this.held = [];
    return rows;
  }

  /** Rows of the quarantine output held for the next batch. */
  get heldCount(): number {
    return this.held.length;
  }

  /**
   * The row of one message, or undefined when it is poison and set aside for the quarantine output.
   * @throws DatakitError `DATA.INVALID_RECORD` for a poison message under the `fail` policy
   */
  row(partition: number, offset: bigint, m: WireMessage): Row | undefined {
    const ts = m.timestamp === undefined || m.timestamp === '-1' ? null : BigInt(m.timestamp) * 1000n;
    const headers = headersJson(m.headers);
    try {
      const keyCell = this.key.decode(m.key)[0];
      const cells = this.value.decode(m.value);
      return [this.topic, partition, offset, ts, keyCell, headers, ...cells];
    } catch (e) {
      if (!(e instanceof PoisonError)) throw e;
      const where = `topic ${this.topic} partition ${partition} offset ${offset}`;
      if (!this.quarantine) {
        throw new DatakitError('DATA.INVALID_RECORD', `${where}: ${e.message}`, {
          where: { kit: 'kafka', stream: this.topic },
          fix: 'set KAFKA_POISON_POLICY=quarantine to land it with its raw bytes in the stream\'s quarantine output and go on, or check KAFKA_KEY_FORMAT/KAFKA_VALUE_FORMAT',
        });
      }
      this.quarantined++;
      this.held.push([this.topic, partition, offset, ts, headers, e.message, m.key, m.value]);
      return undefined;
    }
  }
}
