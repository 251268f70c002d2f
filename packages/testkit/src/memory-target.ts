/**
 * An in-memory bronze target for unit tests of runners and kits: keeps generations, seq, staged swap
 * and state exactly like the real targets promise, so tests can assert on commits.
 */
import type { BronzeTarget, Column, OpenStreamParams, Row, SinkResult, SourceState, StoredStreamState, StreamSink, StreamState } from '@datakit/core';

export interface MemoryGeneration {
  columns: Column[];
  rows: Row[];
  /** The quarantine output's rows, committed with `rows`, and their columns. */
  quarantine: Row[];
  quarantineColumns?: Column[];
}

export class MemoryTarget implements BronzeTarget {
  readonly kind = 'memory';
  readonly location = 'memory://';
  /** source → stateKey → state */
  readonly states = new Map<string, SourceState>();
  /** `${source}/${bronzeName}` → live generation */
  readonly live = new Map<string, MemoryGeneration>();
  /** every commit, in order (for assertions) */
  readonly commits: { stateKey: string; rows: number; checkpoint: StreamState | undefined }[] = [];
  /** generation id → staged (not yet live) rows */
  readonly staging = new Map<string, MemoryGeneration>();
  private gen = 0;

  /**
   * @param opts.commitEveryRows commit on its own inside `write` once this many rows are pending and
   *   the batch carries a checkpoint (as the Parquet target does when a file rolls). @default never
   */
  constructor(private readonly opts: { commitEveryRows?: number } = {}) {}

  async open(): Promise<void> {}
  async close(): Promise<void> {}
  async loadState(source: string): Promise<SourceState> {
    return structuredClone(this.states.get(source) ?? {});
  }
  async resetState(source: string, keys: string[]): Promise<void> {
    const s = this.states.get(source) ?? {};
    for (const k of keys) delete s[k];
    this.states.set(source, s);
  }

  async openStream(p: OpenStreamParams): Promise<StreamSink> {
    const source = p.run.source;
    const liveKey = `${source}/${p.bronzeName}`;
    const resume = p.staged && p.stored?.phase === 'staging';
    const generation = p.staged ? (resume ? p.stored!.generation : `g${++this.gen}`) : p.stored!.generation;
    const staging: MemoryGeneration = p.staged
      ? (resume ? this.staging.get(generation) : undefined) ?? { columns: p.columns, rows: [], quarantine: [] }
      : this.live.get(liveKey) ?? { columns: p.columns, rows: [], quarantine: [] };
    if (p.staged) this.staging.set(generation, staging);
    if (p.quarantineColumns) staging.quarantineColumns = p.quarantineColumns;
    let seq = p.stored && (resume || !p.staged) ? p.stored.seq : 0;
    let pending: Row[] = [];
    let held: Row[] = [];
    let checkpoint = p.stored && (resume || !p.staged) ? p.stored.kit : undefined;
    let rows = 0;
    let quarantined = 0;
    let stored: StoredStreamState | undefined = p.stored;
    const save = (phase: 'staging' | 'live'): void => {
      const st: StoredStreamState = { generation, phase, seq, runId: p.run.runId, updatedAt: new Date().toISOString(), ...(checkpoint !== undefined ? { kit: structuredClone(checkpoint) } : {}) };
      const all = this.states.get(source) ?? {};
      all[p.stateKey] = st;
      this.states.set(source, all);
      stored = st;
    };
    const commit = (): void => {
      if (!pending.length && !held.length) return;
      staging.rows.push(...pending);
      staging.quarantine.push(...held);
      this.commits.push({ stateKey: p.stateKey, rows: pending.length, checkpoint });
      pending = [];
      held = [];
      seq += 1;
      save(p.staged ? 'staging' : 'live');
    };
    const result = (): SinkResult => ({ rows, quarantined, bytes: 0, outputs: [liveKey], ...(stored ? { stored } : {}) });
    return {
      write: async (batch: Row[], cp: StreamState | undefined, has: boolean, quarantine?: Row[]) => {
        pending.push(...batch);
        rows += batch.length;
        if (quarantine?.length) {
          if (!p.quarantineColumns) throw new Error(`stream ${p.stateKey} has no quarantine columns`);
          held.push(...quarantine);
          quarantined += quarantine.length;
        }
        if (has) checkpoint = cp;
        const every = this.opts.commitEveryRows;
        if (has && every !== undefined && pending.length >= every) commit();
      },
      evolve: async (columns: Column[]) => {
        commit();
        staging.columns = columns;
      },
      commit: async () => commit(),
      finish: async () => {
        commit();
        if (p.staged) {
          this.live.set(liveKey, staging);
          this.staging.delete(generation);
        }
        save('live');
        return result();
      },
      abort: async () => {
        rows -= pending.length;
        quarantined -= held.length;
        pending = [];
        held = [];
      },
      result,
    };
  }
}
