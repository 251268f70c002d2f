/**
 * Metrics with prom-client, under the seed's names. Containers are batch jobs, so the registry is
 * pushed to `PROMETHEUS_PUSHGATEWAY_URL` at the end of every run that got past config parsing —
 * failed runs included, since those are the ones an alert must see.
 */
import { Counter, Histogram, Pushgateway, Registry } from 'prom-client';

/** The outcome of a run or a stream. */
export type RunStatus = 'succeeded' | 'failed' | 'interrupted';

/** The metrics of one run (one process). */
export class RunMetrics {
  readonly registry = new Registry();
  readonly runs = new Counter({ name: 'datakit_runs_total', help: 'Runs by outcome', labelNames: ['kit', 'status'] as const, registers: [this.registry] });
  readonly extractions = new Counter({ name: 'datakit_extractions_total', help: 'Stream extractions by outcome', labelNames: ['kit', 'stream', 'status'] as const, registers: [this.registry] });
  readonly duration = new Histogram({ name: 'datakit_extraction_duration_seconds', help: 'Duration of a stream extraction', labelNames: ['kit', 'stream'] as const, buckets: [1, 5, 15, 60, 300, 900, 3600, 14400], registers: [this.registry] });
  readonly rows = new Counter({ name: 'datakit_rows_total', help: 'Rows written to bronze', labelNames: ['kit', 'stream'] as const, registers: [this.registry] });
  readonly quarantined = new Counter({ name: 'datakit_quarantined_rows_total', help: 'Records set aside in a stream\'s quarantine output', labelNames: ['kit', 'stream'] as const, registers: [this.registry] });
  readonly bytes = new Counter({ name: 'datakit_bytes_total', help: 'Bytes written to bronze', labelNames: ['kit', 'stream'] as const, registers: [this.registry] });

  /**
   * Replace this job's group on a Prometheus Pushgateway: `PUT /metrics/job/datakit_<kit>/source/<source>`
   * (plus `/partition/<i_of_n>` for `--partition` runs and, in a scale-out, the first split the process read, so processes do not overwrite each other).
   * PUT, not POST: the group then shows exactly the last run, with no series left from older ones.
   */
  async push(url: string, kit: string, source: string, partition?: { index: number; count: number }): Promise<void> {
    // prom-client sends no Content-Type; the gateway then has to guess the format
    const gateway = new Pushgateway(url, { timeout: 5000, headers: { 'Content-Type': this.registry.contentType } }, this.registry);
    const groupings: Record<string, string> = { source, ...(partition ? { partition: `${partition.index}_of_${partition.count}` } : {}) };
    await gateway.push({ jobName: `datakit_${kit}`, groupings });
  }

  /** The registry in Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
