/**
 * A MemoryTarget whose sinks commit every batch (like a Parquet target rolling small files) and that
 * can "die" (kill -9) before a chosen write: what was committed stays, the rest is lost.
 */
import type { OpenStreamParams, StreamSink } from '@datakit/core';
import { MemoryTarget } from '@datakit/testkit';

export class CrashingTarget extends MemoryTarget {
  /** Writes allowed before the crash (Infinity: never crash). */
  crashAfterWrites = Infinity;
  writes = 0;

  override async openStream(p: OpenStreamParams): Promise<StreamSink> {
    const sink = await super.openStream(p);
    return {
      ...sink,
      write: async (rows, checkpoint, has) => {
        if (++this.writes > this.crashAfterWrites) throw new Error('killed (-9)');
        await sink.write(rows, checkpoint, has);
        if (has) await sink.commit();
      },
    };
  }
}
