/** A progress line at a fixed interval on long streams: rows, rows/s, and % / ETA when estimated. */
import type { Logger } from 'pino';

export function startProgress(log: Logger, intervalMs: number, rows: () => number, estimate?: number): { stop(): void } {
  const started = Date.now();
  const timer = setInterval(() => {
    const n = rows();
    const secs = (Date.now() - started) / 1000;
    const rate = secs > 0 ? Math.round(n / secs) : 0;
    const fields: Record<string, number> = { rows: n, rowsPerSecond: rate, elapsedSeconds: Math.round(secs) };
    if (estimate && estimate > 0) {
      fields.percent = Math.min(100, Math.round((n / estimate) * 1000) / 10);
      if (rate > 0) fields.etaSeconds = Math.max(0, Math.round((estimate - n) / rate));
    }
    log.info(fields, 'progress');
  }, intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
