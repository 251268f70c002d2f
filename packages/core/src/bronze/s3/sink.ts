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
}

/** The S3 {@link StreamSink} (see the module comment). */
export class S3StreamSink implements StreamSink {
  private columns: Column[];
  private file: ParquetFileWriter | undefined;
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

  async write(rows: Row[], checkpoint: StreamState | undefined, hasCheckpoint: boolean): Promise<void> {
    this.assertUsable();
    await this.guard(async () => {
      if (rows.length) {
        const file = this.file ?? (await this.openFile());
        await file.append(rows, file.rows + 1);
      }
      if (hasCheckpoint) {
        this.kit = structuredClone(checkpoint);
        this.checkpointMoved = true;
        this.uncheckpointed = false;
      } else if (rows.length) this.uncheckpointed = true;
      const f = this.file;
      if (f && (f.rows >= this.s.rollRows || f.bytes >= this.s.rollBytes)) {
        await this.finishFile();
        if (!this.uncheckpointed) await this.saveState();
      }
    });
  }

  async evolve(columns: Column[]): Promise<void> {
    this.assertUsable();
    await this.guard(async () => {
      if (this.file) {
        await this.finishFile();
        if (!this.uncheckpointed) await this.saveState();
      }
      this.columns = [...columns];
    });
  }

  async commit(): Promise<void> {
    this.assertUsable();
    await this.guard(async () => {
      if (this.file) await this.finishFile();
      if (this.nextSeq !== this.committedSeq || this.checkpointMoved) await this.saveState();
    });
  }

  async finish(): Promise<SinkResult> {
    await this.commit();
    await this.guard(async () => {
      const { layout, generation } = this.s;
      if (this.s.params.staged) {
        const parts: string[] = [];
        for (let seq = 0; seq < this.nextSeq; seq++) {
          const to = layout.liveKey(generation, seq);
          await layout.copy(layout.stagedKey(generation, seq), to);
          parts.push(to);
        }
        await layout.writeManifest(generation, parts);
        this.live = true;
        await this.saveState();
        // superseded once the new parts and the live state are durable
        await layout.remove(await layout.strayLive(generation, this.nextSeq));
        await layout.remove(await layout.strayStaged(undefined, 0));
        for (const f of this.committed) f.key = layout.liveKey(generation, Number(/part-(\d+)\.parquet$/.exec(f.key)?.[1] ?? 0));
      } else if (this.committed.length) {
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
      this.file = undefined;
      // uploaded but never in the state: the next open would remove them too
      await this.s.layout.remove(this.pending.map((f) => f.key)).catch(() => undefined);
      this.pending.length = 0;
    } catch {
      // best effort
    }
    await this.cleanup();
  }

  result(): SinkResult {
    const open = { rows: this.file?.rows ?? 0, bytes: this.file?.bytes ?? 0 };
    const all = [...this.committed, ...this.pending];
    return {
      rows: all.reduce((n, f) => n + f.rows, open.rows),
      bytes: all.reduce((n, f) => n + f.bytes, open.bytes),
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

  private async openFile(): Promise<ParquetFileWriter> {
    this.tmp ??= await mkdtemp(join(tmpdir(), 'datakit-s3-'));
    this.file = await ParquetFileWriter.open(join(this.tmp, `part-${this.nextSeq}.parquet`), this.columns, { rowGroupRows: this.s.rowGroupRows, compression: this.s.compression });
    return this.file;
  }

  /** Finish the open file and upload it as part `nextSeq` (durable in S3, not yet in the state). */
  private async finishFile(): Promise<void> {
    const f = this.file;
    if (!f) return;
    this.file = undefined;
    const done = await f.finish();
    const { layout, generation } = this.s;
    const key = this.live ? layout.liveKey(generation, this.nextSeq) : layout.stagedKey(generation, this.nextSeq);
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
    this.pending.push({ key, rows: done.rows, bytes: done.bytes });
    this.nextSeq += 1;
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
