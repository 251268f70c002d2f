/**
 * Metrics with prom-client, under the seed's names. Containers are batch jobs, so the registry is
 * pushed to `PROMETHEUS_PUSHGATEWAY_URL` at the end of a run when that is set.
 */
import { Counter, Histogram, Pushgateway, Registry } from 'prom-client';

export class RunMetrics {
  readonly registry = new Registry();
  readonly extractions = new Counter({ name: 'datakit_extractions_total', help: 'Stream extractions by outcome', labelNames: ['kit', 'stream', 'status'] as const, registers: [this.registry] });
  readonly duration = new Histogram({ name: 'datakit_extraction_duration_seconds', help: 'Duration of a stream extraction', labelNames: ['kit', 'stream'] as const, buckets: [1, 5, 15, 60, 300, 900, 3600, 14400], registers: [this.registry] });
  readonly rows = new Counter({ name: 'datakit_rows_total', help: 'Rows written to bronze', labelNames: ['kit', 'stream'] as const, registers: [this.registry] });
  readonly bytes = new Counter({ name: 'datakit_bytes_total', help: 'Bytes written to bronze', labelNames: ['kit', 'stream'] as const, registers: [this.registry] });

  /** Push to a Prometheus Pushgateway (job `datakit_<kit>`, grouped by source). */
  async push(url: string, kit: string, source: string): Promise<void> {
    const gateway = new Pushgateway(url, { timeout: 5000 }, this.registry);
    await gateway.pushAdd({ jobName: `datakit_${kit}`, groupings: { source } });
  }

  /** The registry in Prometheus text format. */
  text(): Promise<string> {
    return this.registry.metrics();
  }
}
