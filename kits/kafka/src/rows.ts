/**
 * Kafka messages → bronze rows: lineage cells, the decoded key and value, and the poison policy (fail
 * with the message's topic, partition and offset, or quarantine it with its raw bytes).
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
  private readonly quarantine: boolean;

  /**
   * @param fixed the stream's lineage (and quarantine) columns, as discover gave them
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

  /**
   * The row of one message.
   * @throws DatakitError `DATA.INVALID_RECORD` for a poison message under the `fail` policy
   */
  row(partition: number, offset: bigint, m: WireMessage): Row {
    const ts = m.timestamp === undefined || m.timestamp === '-1' ? null : BigInt(m.timestamp) * 1000n;
    const headers = headersJson(m.headers);
    let keyCell: unknown = null;
    try {
      keyCell = this.key.decode(m.key)[0];
      const cells = this.value.decode(m.value);
      return this.quarantine ? [this.topic, partition, offset, ts, keyCell, headers, null, null, null, ...cells] : [this.topic, partition, offset, ts, keyCell, headers, ...cells];
    } catch (e) {
      if (!(e instanceof PoisonError)) throw e;
      const where = `topic ${this.topic} partition ${partition} offset ${offset}`;
      if (!this.quarantine) {
        throw new DatakitError('DATA.INVALID_RECORD', `${where}: ${e.message}`, {
          where: { kit: 'kafka', stream: this.topic },
          fix: 'set KAFKA_POISON_POLICY=quarantine to land it with its raw bytes in _kafka_raw_value and go on, or check KAFKA_KEY_FORMAT/KAFKA_VALUE_FORMAT',
        });
      }
      this.quarantined++;
      return [this.topic, partition, offset, ts, keyCell, headers, e.message, m.key, m.value, ...new Array<null>(this.value.columns.length).fill(null)];
    }
  }
}
