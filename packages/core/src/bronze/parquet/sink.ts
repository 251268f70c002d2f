/**
 * One stream written into a generation directory as Parquet files, one file per commit.
 *
 * File `part-<n>.parquet` holds commit `n` of the generation; the state's `seq` is the number of
 * committed files. A file is finished (footer, fsync, rename, fsync dir) before the state that
 * covers it is saved, and on open every file at or beyond the stored `seq` is deleted as an orphan
 * of a crash — so a commit re-done after a crash overwrites instead of duplicating.
 *
 * Quarantined rows (`write`'s `quarantine`) go to `_quarantine/part-<n>.parquet` in the same
 * generation, finished with `part-<n>` (either may be missing) and covered by the same state.
 *
 * A file rolls (is finished and a new one started) once it — or its quarantine file — reaches
 * `rollRows` or `rollBytes`, checked after each `write`. Its state is saved right away when every row in it is covered by a checkpoint;
 * a file that ends with rows written without a checkpoint stays uncommitted (deleted after a crash,
 * like the open transaction of the warehouse target) until the next commit covers it.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { DatakitError } from '../../errors.js';
import type { Column, Row, StreamState } from '../../types.js';
import type { OpenStreamParams, SinkResult, StoredStreamState, StreamSink } from '../types.js';
import type { ParquetCompression } from './compression.js';
import { ParquetFileWriter } from './file-writer.js';
import { fsyncDir, removeQuietly, writeFailed } from './fs.js';
import { partFileName, QUARANTINE_DIR, type StreamLayout } from './layout.js';
import { saveStreamState } from './state.js';

/** Everything {@link ParquetStreamSink} needs, prepared by the target's `openStream`. */
export interface ParquetSinkSetup {
  layout: StreamLayout;
  params: OpenStreamParams;
  generation: string;
  /** Commits already stored in the generation (resumed or appended), else 0. */
  seq: number;
  /** The checkpoint the generation resumes from. */
  kit: StreamState | undefined;
  /** The generation directory was created by this sink (removed by `abort()` if nothing was committed). */
  created: boolean;
  rollRows: number;
  rollBytes: number;
  rowGroupRows: number;
  compression: ParquetCompression;
  /** Called once the sink is finished or aborted. */
  onDone: () => void;
}

interface DoneFile {
  /** Relative to the generation directory. */
  name: string;
  rows: number;
  bytes: number;
  /** A file of the quarantine output. */
  quarantine?: boolean;
}

/** The Parquet {@link StreamSink}: see the module comment for the commit rules. */
export class ParquetStreamSink implements StreamSink {
  private columns: Column[];
  private file: ParquetFileWriter | undefined;
  /** The open file of the quarantine output, numbered like `file`. */
  private qfile: ParquetFileWriter | undefined;
  /** Files stored in the state (`seq`). */
  private committedSeq: number;
  /** The number of the next file. */
  private nextSeq: number;
  private kit: StreamState | undefined;
  private stored: StoredStreamState | undefined;
  /** Rows were written since the last checkpoint. */
  private uncheckpointed = false;
  /** The checkpoint changed since the state was last saved. */
  private checkpointMoved = false;
  private readonly committed: DoneFile[] = [];
  private readonly pending: DoneFile[] = [];
  private rowsIn = 0;
  private quarantinedIn = 0;
  private live = false;
  private done = false;
  private broken: unknown;
  private readonly dir: string;

  constructor(private readonly s: ParquetSinkSetup) {
    this.columns = [...s.params.columns];
    this.committedSeq = s.seq;
    this.nextSeq = s.seq;
    this.kit = s.kit;
    this.stored = s.params.stored;
    this.live = !s.params.staged;
    this.dir = s.layout.generationDir(s.generation);
  }

  async write(rows: Row[], checkpoint: StreamState | undefined, hasCheckpoint: boolean, quarantine?: Row[]): Promise<void> {
    this.assertUsable();
    await this.guard(async () => {
      if (rows.length) {
        const file = this.file ?? (await this.openFile());
        await file.append(rows, this.rowsIn + 1);
        this.rowsIn += rows.length;
      }
      if (quarantine?.length) {
        const file = this.qfile ?? (await this.openQuarantineFile());
        await file.append(quarantine, this.quarantinedIn + 1);
        this.quarantinedIn += quarantine.length;
      }
      if (hasCheckpoint) {
        // copied now: the kit may reuse its checkpoint object for the next batch
        this.kit = structuredClone(checkpoint);
        this.checkpointMoved = true;
        this.uncheckpointed = false;
      } else if (rows.length || quarantine?.length) this.uncheckpointed = true;
      if (this.full(this.file) || this.full(this.qfile)) {
        await this.finishFile();
        if (!this.uncheckpointed) await this.saveState();
      }
    });
  }

  async evolve(columns: Column[]): Promise<void> {
    this.assertUsable();
    await this.guard(async () => {
      // a file has one schema: later rows go to a new file with the wider one
      if (this.file || this.qfile) {
        await this.finishFile();
        if (!this.uncheckpointed) await this.saveState();
      }
      this.columns = [...columns];
    });
  }

  async commit(): Promise<void> {
    this.assertUsable();
    await this.guard(async () => {
      if (this.file || this.qfile) await this.finishFile();
      if (this.nextSeq !== this.committedSeq || this.checkpointMoved) await this.saveState();
    });
  }

  async finish(): Promise<SinkResult> {
    await this.commit();
    if (this.s.params.staged) {
      await this.guard(async () => {
        const { layout, generation } = this.s;
        const previous = await layout.liveGeneration();
        if (previous !== generation) await layout.swapIn(generation);
        this.live = true;
        await this.saveState();
        // superseded once the swap and the state are durable
        await layout.sweep([generation]);
      });
    }
    this.end();
    return this.result();
  }

  async abort(): Promise<void> {
    if (this.done) return;
    this.end();
    try {
      await this.file?.abort();
      await this.qfile?.abort();
      this.file = this.qfile = undefined;
      for (const f of this.pending) await removeQuietly(join(this.dir, f.name));
      this.pending.length = 0;
      if (this.s.created && this.committedSeq === 0 && this.stored?.generation !== this.s.generation) await removeQuietly(this.dir);
    } catch {
      // best effort: the next openStream removes orphans anyway
    }
  }

  result(): SinkResult {
    const all = [...this.committed, ...this.pending];
    const base = this.live ? this.s.layout.link : this.dir;
    return {
      rows: all.reduce((n, f) => (f.quarantine ? n : n + f.rows), this.file?.rows ?? 0),
      quarantined: all.reduce((n, f) => (f.quarantine ? n + f.rows : n), this.qfile?.rows ?? 0),
      bytes: all.reduce((n, f) => n + f.bytes, (this.file?.bytes ?? 0) + (this.qfile?.bytes ?? 0)),
      outputs: all.map((f) => this.s.layout.relative(join(base, f.name))),
      ...(this.stored ? { stored: this.stored } : {}),
    };
  }

  private assertUsable(): void {
    if (this.done) throw new DatakitError('INTERNAL.ERROR', `stream sink for ${this.s.layout.link} used after finish() or abort()`);
    if (this.broken !== undefined) {
      throw new DatakitError('BRONZE.WRITE_FAILED', `stream sink for ${this.s.layout.link} failed earlier and can only be aborted`, { cause: this.broken });
    }
  }

  /** Run a step; a failure leaves the sink usable only for `abort()`. */
  private async guard(step: () => Promise<void>): Promise<void> {
    try {
      await step();
    } catch (e) {
      this.broken = e;
      throw e;
    }
  }

  private end(): void {
    this.done = true;
    this.s.onDone();
  }

  private async openFile(): Promise<ParquetFileWriter> {
    const path = join(this.dir, partFileName(this.nextSeq));
    this.file = await ParquetFileWriter.open(path, this.columns, { rowGroupRows: this.s.rowGroupRows, compression: this.s.compression });
    return this.file;
  }

  /** The quarantine file of commit `nextSeq`; the first one creates `_quarantine/` durably. */
  private async openQuarantineFile(): Promise<ParquetFileWriter> {
    const columns = this.s.params.quarantineColumns;
    if (!columns) throw new DatakitError('INTERNAL.ERROR', `stream ${this.s.params.stateKey} has no quarantine columns`);
    const qdir = join(this.dir, QUARANTINE_DIR);
    try {
      await mkdir(qdir, { recursive: true });
      await fsyncDir(this.dir);
    } catch (e) {
      throw writeFailed(`creating ${qdir}`, e);
    }
    this.qfile = await ParquetFileWriter.open(join(qdir, partFileName(this.nextSeq)), columns, { rowGroupRows: this.s.rowGroupRows, compression: this.s.compression });
    return this.qfile;
  }

  private full(f: ParquetFileWriter | undefined): boolean {
    return f !== undefined && (f.rows >= this.s.rollRows || f.bytes >= this.s.rollBytes);
  }

  /** Finish the open file as `part-<nextSeq>` and its quarantine file, if any (durable, not yet in the state). */
  private async finishFile(): Promise<void> {
    if (!this.file && !this.qfile) return;
    const name = partFileName(this.nextSeq);
    if (this.file) {
      const done = await this.file.finish();
      this.file = undefined;
      this.pending.push({ name, rows: done.rows, bytes: done.bytes });
    }
    if (this.qfile) {
      const done = await this.qfile.finish();
      this.qfile = undefined;
      this.pending.push({ name: join(QUARANTINE_DIR, name), rows: done.rows, bytes: done.bytes, quarantine: true });
    }
    this.nextSeq += 1;
  }

  /** Store the state: every finished file, the last checkpoint, the phase. */
  private async saveState(): Promise<void> {
    const state: StoredStreamState = {
      ...(this.kit !== undefined ? { kit: this.kit } : {}),
      generation: this.s.generation,
      phase: this.live ? 'live' : 'staging',
      seq: this.nextSeq,
      runId: this.s.params.run.runId,
      updatedAt: new Date().toISOString(),
      columns: this.columns.map((c) => c.name),
    };
    await saveStreamState(this.s.layout.root, this.s.layout.source, this.s.params.stateKey, state);
    this.stored = state;
    this.committedSeq = this.nextSeq;
    this.checkpointMoved = false;
    this.committed.push(...this.pending.splice(0));
  }
}
