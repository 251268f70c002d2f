/**
 * One stream written to S3 as Parquet, one object per commit, with the local Parquet target's rules
 * (see `../parquet/sink.ts`): the same file writer and encoding, the same roll sizes, a file's state
 * saved only when every row in it is covered by a checkpoint, parts named by the commit counter.
 *
 * A part is written by the local {@link ParquetFileWriter} into a temp directory, then uploaded with
 * a multipart upload (`@aws-sdk/lib-storage`) and deleted locally: memory stays bounded by one row
 * group plus the upload's part buffers, disk by one file. The state is written after the upload
 * succeeded — S3 acknowledges a PUT only once the object is durable.
 *
 * Quarantined rows go to the part's twin under `_quarantine/`, uploaded with it and covered by the
 * same state (a commit may have either or both).
 *
 * A full refresh is staged under `_staging/` (invisible to readers). `finish()` copies its parts to
 * the stream prefix (server-side), writes `_manifest.json`, stores the state as live, then deletes
 * the previous generation's parts and the staging copies. See docs/bronze.md ("S3") for the window
 * in which readers of the prefix see both generations.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Upload } from '@aws-sdk/lib-storage';
import { DatakitError } from '../../errors.js';
import type { Column, Row, StreamState } from '../../types.js';
import type { ParquetCompression } from '../parquet/compression.js';
import { ParquetFileWriter } from '../parquet/file-writer.js';
import type { OpenStreamParams, SinkResult, StoredStreamState, StreamSink } from '../types.js';
import { s3Error } from './client.js';
import type { S3StreamLayout } from './layout.js';
import { saveS3State } from './state.js';

/** Everything {@link S3StreamSink} needs, prepared by the target's `openStream`. */
export interface S3SinkSetup {
  layout: S3StreamLayout;
  params: OpenStreamParams;
  generation: string;
  /** Commits already stored in the generation, else 0. */
  seq: number;
  kit: StreamState | undefined;
  rollRows: number;
  rollBytes: number;
  rowGroupRows: number;
  compression: ParquetCompression;
  /** Multipart part size in bytes. */
  partSize: number;
  onDone: () => void;
}

interface DoneFile {
  key: string;
  rows: number;
  bytes: number;
  /** A part of the quarantine output. */
  quarantine?: boolean;
}

/** The S3 {@link StreamSink} (see the module comment). */
export class S3StreamSink implements StreamSink {
  private columns: Column[];
  private file: ParquetFileWriter | undefined;
  /** The open part of the quarantine output, numbered like `file`. */
  private qfile: ParquetFileWriter | undefined;
  private tmp: string | undefined;
  private committedSeq: number;
  private nextSeq: number;
  private kit: StreamState | undefined;
  private stored: StoredStreamState | undefined;
  private uncheckpointed = false;
  private checkpointMoved = false;
  private readonly committed: DoneFile[] = [];
  private readonly pending: DoneFile[] = [];
  private live: boolean;
  private done = false;
  private broken: unknown;

  constructor(private readonly s: S3SinkSetup) {
    this.columns = [...s.params.columns];
    this.committedSeq = s.seq;
    this.nextSeq = s.seq;
    this.kit = s.kit;
    this.stored = s.params.stored;
    this.live = !s.params.staged;
  }

  async write(rows: Row[], checkpoint: StreamState | undefined, hasCheckpoint: boolean, quarantine?: Row[]): Promise<void> {
    this.assertUsable();
    await this.guard(async () => {
      if (rows.length) {
        const file = this.file ?? (this.file = await this.openFile(this.columns, ''));
        await file.append(rows, file.rows + 1);
      }
      if (quarantine?.length) {
        const columns = this.s.params.quarantineColumns;
        if (!columns) throw new DatakitError('INTERNAL.ERROR', `stream ${this.s.params.stateKey} has no quarantine columns`);
        const file = this.qfile ?? (this.qfile = await this.openFile(columns, 'quarantine-'));
        await file.append(quarantine, file.rows + 1);
      }
      if (hasCheckpoint) {
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
    await this.guard(async () => {
      const { layout, generation } = this.s;
      if (this.s.params.staged) {
        const parts: string[] = [];
        const staged = (await layout.stagedParts(generation)).filter((p) => p.seq < this.nextSeq).sort((a, b) => a.seq - b.seq);
        for (const p of staged) {
          const to = layout.liveKey(generation, p.seq, p.quarantine);
          await layout.copy(p.key, to);
          if (!p.quarantine) parts.push(to);
        }
        await layout.writeManifest(generation, parts);
        this.live = true;
        await this.saveState();
        // superseded once the new parts and the live state are durable
        await layout.remove(await layout.strayLive(generation, this.nextSeq));
        await layout.remove(await layout.strayStaged(undefined, 0));
        for (const f of this.committed) f.key = layout.liveKey(generation, Number(/part-(\d+)\.parquet$/.exec(f.key)?.[1] ?? 0), f.quarantine);
      } else if (this.committed.some((f) => !f.quarantine)) {
        const parts = (await layout.list(layout.live)).filter((k) => k.startsWith(`${layout.live}part-${generation}-`));
        await layout.writeManifest(generation, parts);
      }
    });
    await this.cleanup();
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
      // uploaded but never in the state: the next open would remove them too
      await this.s.layout.remove(this.pending.map((f) => f.key)).catch(() => undefined);
      this.pending.length = 0;
    } catch {
      // best effort
    }
    await this.cleanup();
  }

  result(): SinkResult {
    const all = [...this.committed, ...this.pending];
    return {
      rows: all.reduce((n, f) => (f.quarantine ? n : n + f.rows), this.file?.rows ?? 0),
      quarantined: all.reduce((n, f) => (f.quarantine ? n + f.rows : n), this.qfile?.rows ?? 0),
      bytes: all.reduce((n, f) => n + f.bytes, (this.file?.bytes ?? 0) + (this.qfile?.bytes ?? 0)),
      outputs: all.map((f) => this.s.layout.url(f.key)),
      ...(this.stored ? { stored: this.stored } : {}),
    };
  }

  private assertUsable(): void {
    if (this.done) throw new DatakitError('INTERNAL.ERROR', `stream sink for ${this.s.layout.url(this.s.layout.live)} used after finish() or abort()`);
    if (this.broken !== undefined) {
      throw new DatakitError('BRONZE.WRITE_FAILED', `stream sink for ${this.s.layout.url(this.s.layout.live)} failed earlier and can only be aborted`, { cause: this.broken });
    }
  }

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

  private async cleanup(): Promise<void> {
    if (this.tmp) await rm(this.tmp, { recursive: true, force: true }).catch(() => undefined);
    this.tmp = undefined;
  }

  private async openFile(columns: Column[], prefix: string): Promise<ParquetFileWriter> {
    this.tmp ??= await mkdtemp(join(tmpdir(), 'datakit-s3-'));
    return ParquetFileWriter.open(join(this.tmp, `${prefix}part-${this.nextSeq}.parquet`), columns, { rowGroupRows: this.s.rowGroupRows, compression: this.s.compression });
  }

  private full(f: ParquetFileWriter | undefined): boolean {
    return f !== undefined && (f.rows >= this.s.rollRows || f.bytes >= this.s.rollBytes);
  }

  /** Finish the open file and its quarantine twin, and upload them as part `nextSeq` (durable in S3, not yet in the state). */
  private async finishFile(): Promise<void> {
    if (!this.file && !this.qfile) return;
    if (this.file) {
      await this.upload(this.file, false);
      this.file = undefined;
    }
    if (this.qfile) {
      await this.upload(this.qfile, true);
      this.qfile = undefined;
    }
    this.nextSeq += 1;
  }

  private async upload(f: ParquetFileWriter, quarantine: boolean): Promise<void> {
    const done = await f.finish();
    const { layout, generation } = this.s;
    const key = this.live ? layout.liveKey(generation, this.nextSeq, quarantine) : layout.stagedKey(generation, this.nextSeq, quarantine);
    const upload = new Upload({
      client: layout.client,
      params: { Bucket: layout.loc.bucket, Key: key, Body: createReadStream(done.path), ContentType: 'application/vnd.apache.parquet' },
      partSize: this.s.partSize,
      queueSize: 2,
      leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (e) {
      throw s3Error(`uploading ${layout.url(key)}`, e);
    } finally {
      await rm(done.path, { force: true }).catch(() => undefined);
    }
    this.pending.push({ key, rows: done.rows, bytes: done.bytes, ...(quarantine ? { quarantine } : {}) });
  }

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
    await saveS3State(this.s.layout.client, this.s.layout.loc, this.s.layout.source, this.s.params.stateKey, state);
    this.stored = state;
    this.committedSeq = this.nextSeq;
    this.checkpointMoved = false;
    this.committed.push(...this.pending.splice(0));
  }
}
