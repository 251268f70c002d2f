#!/usr/bin/env node
// Benchmark of @datakit/kit-kafka: BENCH_KAFKA_MESSAGES JSON messages (default 1,000,000) of
// BENCH_KAFKA_MESSAGE_BYTES bytes (default 1024) on librdkafka's mock cluster (Debian `kcat`), spread
// over auto-created topics of 16,384 messages each (the mock keeps only 5 MiB per partition, so 1M
// messages are 62 topics × 4 partitions), measured in the same run, each in its own child process:
//   (a) reference   kcat -C -e -o beginning -X fetch.wait.max.ms=10 -t <topic> > /dev/null, every topic in turn
//   (b) kit read()  kafkaKit.read() over every topic, rows counted, nothing written (this file, --child-read)
//   (c) → Parquet   the built CLI `run`, KAFKA_VALUE_FORMAT=json, BRONZE_URL=file:///tmp/…,
//                   NODE_OPTIONS=--max-old-space-size=256
//   (d) → Parquet   the same with KAFKA_VALUE_FORMAT=bytes (the kit's default: no JSON check, no text)
// For each: messages/s and MB/s (message values) for the whole process (wall time of the child) and
// for the steady state (kit: from the first topic's start of reading to the last topic's end, so no
// process start, discover or final commit; kcat: one balanced consumer `-G` over every topic minus the
// same on an empty topic, so one fixed cost is subtracted, not 62), the ratio to (a), and peak RSS
// (GNU time's %M, else VmHWM).
// Floors (PASS/FAIL, never the exit code): → Parquet steady state ≥ 0.1× kcat, peak RSS < 400 MB.
// Writes bench/results/kafka.json.
//
// Env: BENCH_KAFKA_MESSAGES, BENCH_KAFKA_MESSAGE_BYTES, BENCH_ONLY=a,b,c,d, BATCH_SIZE (passed to the kit),
// BENCH_PROFILE=1 (node --cpu-prof for (b)–(d), profiles in bench/results/profiles/).
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const kitMain = join(root, 'kits/kafka/dist/main.js');
const kitIndex = join(root, 'kits/kafka/dist/index.js');
const resultsDir = join(root, 'bench/results');
const PER_TOPIC = 16_384;
const log = (s = '') => process.stdout.write(`${s}\n`);

if (process.argv[2] === '--child-read') await childRead();
else await main();

/** (b): read every topic through kafkaKit.read(), count rows, print JSON. */
async function childRead() {
  const core = await import(pathToFileURL(join(root, 'packages/core/dist/index.js')).href);
  const { kafkaKit, kafkaConfig } = await import(pathToFileURL(kitIndex).href);
  const config = core.loadConfig(kafkaConfig, {}).config;
  const logger = core.createLogger({ level: 'warn', pretty: false });
  const ctx = { logger, signal: new AbortController().signal, batchSize: Number(process.env.BATCH_SIZE ?? 10_000), runId: 'bench' };
  const streams = await kafkaKit.discover(ctx, config);
  let rows = 0;
  let bytes = 0;
  let batches = 0;
  const t0 = performance.now();
  for (const stream of streams) {
    const valueAt = stream.columns.findIndex((c) => c.name === 'value');
    for await (const b of kafkaKit.read(ctx, config, stream, undefined)) {
      batches++;
      rows += b.rows.length;
      for (const r of b.rows) bytes += r[valueAt]?.length ?? 0;
    }
  }
  process.stdout.write(`${JSON.stringify({ rows, bytes, batches, seconds: (performance.now() - t0) / 1000 })}\n`);
}

async function main() {
  const MESSAGES = Number(process.env.BENCH_KAFKA_MESSAGES ?? 1_000_000);
  const SIZE = Number(process.env.BENCH_KAFKA_MESSAGE_BYTES ?? 1024);
  const ONLY = new Set((process.env.BENCH_ONLY ?? 'a,b,c,d').split(',').map((s) => s.trim()));
  const PROFILE = process.env.BENCH_PROFILE === '1';
  const GNU_TIME = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;
  const FLOORS = { parquetSteadyRatio: 0.1, parquetRssMb: 400 };
  for (const file of [kitMain, kitIndex]) {
    if (!existsSync(file)) {
      console.error(`kafka bench: ${file} is missing: build the kit (pnpm turbo run build --filter=@datakit/kit-kafka); pnpm bench builds every kit`);
      process.exit(1);
    }
  }
  const tmp = mkdtempSync(join(tmpdir(), 'datakit-bench-kafka-'));
  const profileDir = join(resultsDir, 'profiles');
  if (PROFILE) mkdirSync(profileDir, { recursive: true });
  const nodeArgs = (label) => (PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=kafka-${label}-${Date.now()}.cpuprofile`] : []);

  // ---- the cluster: librdkafka's mock through kcat (TEST-SERVICES.md §2) -------------------------------
  const mock = spawn('kcat', ['-X', 'test.mock.num.brokers=1', '-b', 'mock:9092', '-P', '-t', '__keepalive'], { stdio: ['pipe', 'ignore', 'pipe'] });
  const brokers = await new Promise((resolve, reject) => {
    let buf = '';
    mock.stderr.on('data', (d) => {
      buf += d;
      const m = /replaced with (\S+)/.exec(buf);
      if (m) resolve(m[1]);
    });
    mock.once('error', (e) => reject(new Error(`kafka bench: cannot start kcat (apt-get install kcat): ${e.message}`)));
    mock.once('exit', (code) => reject(new Error(`kcat exited with ${code}: ${buf}`)));
  });
  const cleanup = () => {
    mock.stdin.end();
    rmSync(tmp, { recursive: true, force: true });
  };
  process.once('SIGINT', () => (cleanup(), process.exit(130)));
  process.once('SIGTERM', () => (cleanup(), process.exit(143)));

  const topics = Array.from({ length: Math.ceil(MESSAGES / PER_TOPIC) }, (_, i) => `bench-${String(i).padStart(3, '0')}`);
  const results = {
    kit: 'kafka',
    date: new Date().toISOString(),
    node: process.version,
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30) },
    messages: MESSAGES,
    messageBytes: SIZE,
    topics: topics.length,
    floors: FLOORS,
  };
  const valueBytes = MESSAGES * SIZE;
  try {
    // ---- the data: kcat -P, one message per line, 1 KB JSON each (a pool of distinct random lines) -------
    let t = performance.now();
    const pool = Array.from({ length: 1024 }, () => randomBytes(SIZE).toString('hex'));
    let sent = 0;
    for (const topic of topics) {
      const n = Math.min(PER_TOPIC, MESSAGES - sent);
      // one producer per partition: librdkafka's sticky partitioner would fill one or two partitions past
      // the mock's 5 MiB and the mock would silently drop their oldest messages
      await Promise.all(
        [0, 1, 2, 3].map(async (partition) => {
          const producer = spawn('kcat', ['-P', '-b', brokers, '-t', topic, '-p', String(partition), '-X', 'linger.ms=20', '-X', 'batch.num.messages=10000'], { stdio: ['pipe', 'ignore', 'pipe'] });
          let err = '';
          producer.stderr.on('data', (d) => (err += d));
          const done = new Promise((resolve) => producer.once('exit', resolve));
          let chunk = '';
          for (let i = partition; i < n; i += 4) {
            const id = sent + i;
            const head = `{"id":${id},"topic":"${topic}","at":"2024-01-01T00:00:00.${String(id % 1000).padStart(3, '0')}Z","pad":"`;
            chunk += `${head}${pool[id % pool.length].slice(0, SIZE - head.length - 3)}"}\n`;
            if (chunk.length > 1 << 20) {
              if (!producer.stdin.write(chunk)) await new Promise((r) => producer.stdin.once('drain', r));
              chunk = '';
            }
          }
          producer.stdin.end(chunk);
          const code = await done;
          if (code !== 0) throw new Error(`kcat -P ${topic} -p ${partition} exited ${code}: ${err}`);
        }),
      );
      sent += n;
    }
    // an empty topic for kcat's fixed cost (auto-created by a metadata request)
    await measure('kcat', ['-L', '-b', brokers, '-t', 'bench-empty'], { stdoutToNull: true });
    results.setupSeconds = (performance.now() - t) / 1000;
    log(`kafka: ${MESSAGES.toLocaleString('en')} messages × ${SIZE} B (${(valueBytes / 2 ** 20).toFixed(0)} MiB) in ${topics.length} topics, produced with kcat in ${results.setupSeconds.toFixed(1)} s`);
    log(`       ${results.machine.cpus} CPUs (${results.machine.cpuModel}), ${results.machine.memoryGb} GB, node ${process.version}`);

    const baseEnv = { ...process.env };
    for (const k of ['BRONZE_URL', 'WAREHOUSE_DATABASE_URL', 'BRONZE_SOURCE', 'STREAMS_INCLUDE', 'STREAMS_EXCLUDE', 'DATAKIT_CONFIG', 'NODE_OPTIONS']) delete baseEnv[k];
    Object.assign(baseEnv, { KAFKA_BROKERS: brokers, KAFKA_TOPICS: '/^bench-\\d/', KAFKA_VALUE_FORMAT: 'json', LOG_FORMAT: 'json' });

    // ---- (a) kcat, every topic in turn; (a') one kcat over every topic --------------------------------
    // fetch.wait.max.ms=10: kcat's default 500 ms long-poll at the end of each partition would add ~0.5 s
    // per topic and flatter the kit. Whole process: one simple consumer (`-t`) per topic in turn, best of 2
    // (round 0 warms the mock). Steady state: one balanced consumer (`-G`, every topic in one process,
    // best of 2) minus the same command's time on an empty topic (median of 3) — its fixed cost is paid
    // once, almost all of it the mock's 3 s group-join delay, a timer, so the difference is kcat's reading
    // time and not 62 subtracted process starts. (Timing kcat's own output through a pipe slows kcat
    // down more than it measures.)
    if (ONLY.has('a') || ONLY.has('b') || ONLY.has('c') || ONLY.has('d')) {
      const kcatArgs = (topic) => ['-C', '-b', brokers, '-t', topic, '-e', '-o', 'beginning', '-q', '-X', 'fetch.wait.max.ms=10'];
      const best = { seconds: Infinity, peak: 0 };
      for (let round = 0; round < 2; round++) {
        let seconds = 0;
        for (const topic of topics) {
          const r = await measure('kcat', kcatArgs(topic), { stdoutToNull: true });
          if (r.code !== 0) throw new Error(`kcat -C ${topic} exited ${r.code}: ${r.stderr}`);
          seconds += r.seconds;
          best.peak = Math.max(best.peak, r.peakRssKb);
        }
        best.seconds = Math.min(best.seconds, seconds);
      }
      let group = 0;
      const balanced = async (names) => {
        const r = await measure('kcat', ['-C', '-b', brokers, '-G', `bench-kcat-${group++}`, '-e', '-q', '-X', 'fetch.wait.max.ms=10', '-X', 'auto.offset.reset=earliest', ...names], { stdoutToNull: true });
        if (r.code !== 0) throw new Error(`kcat -G exited ${r.code}: ${r.stderr}`);
        return r;
      };
      const fixed = [];
      for (let i = 0; i < 3; i++) fixed.push((await balanced(['bench-empty'])).seconds);
      const fixedSeconds = fixed.sort((x, y) => x - y)[1];
      let all = { seconds: Infinity, peakRssKb: 0 };
      for (let round = 0; round < 2; round++) {
        const r = await balanced(topics);
        if (r.seconds < all.seconds) all = r;
      }
      results.reference = {
        what: `kcat -C -e -o beginning -X fetch.wait.max.ms=10 -t <topic> > /dev/null, ${topics.length} topics in turn, best of 2; steady: kcat -C -G <group> -e <every topic> > /dev/null (best of 2) minus the same on an empty topic (${fixedSeconds.toFixed(2)} s, median of 3)`,
        ...rates(best.seconds),
        steady: rates(all.seconds - fixedSeconds),
        balancedSeconds: all.seconds,
        balancedFixedSeconds: fixedSeconds,
        peakRssMb: Math.max(best.peak, all.peakRssKb) / 1024,
      };
      if (all.seconds - fixedSeconds < 0.05) throw new Error(`kcat -G over every topic took ${all.seconds.toFixed(2)} s, its empty-topic cost ${fixedSeconds.toFixed(2)} s: no steady state to measure`);
    }

    // ---- (b) kit read() only -----------------------------------------------------------------------------
    if (ONLY.has('b')) {
      const r = await measure(process.execPath, [...nodeArgs('read'), fileURLToPath(import.meta.url), '--child-read'], { env: baseEnv });
      if (r.code !== 0) throw new Error(`kit read child failed (exit ${r.code}): ${r.stderr.slice(-3000)}`);
      const out = JSON.parse(r.stdout.trim().split('\n').at(-1));
      if (out.rows !== MESSAGES) throw new Error(`kit read returned ${out.rows} rows, expected ${MESSAGES}`);
      results.read = { what: 'kafkaKit.read() over every topic, rows counted, nothing written (child process)', ...rates(r.seconds), steady: rates(out.seconds), batches: out.batches, peakRssMb: r.peakRssKb / 1024 };
    }

    // ---- (c) → Parquet, values as JSON; (d) the same with values as bytes (the kit's default) -----------
    const toParquet = async (label, format) => {
      const out = join(tmp, `bronze-${format}`);
      const env = { ...baseEnv, KAFKA_VALUE_FORMAT: format, BRONZE_URL: pathToFileURL(out).href, NODE_OPTIONS: '--max-old-space-size=256', LOG_LEVEL: 'info' };
      const r = await measure(process.execPath, [...nodeArgs(`parquet-${format}`), kitMain, 'run'], { env });
      let report;
      try {
        report = JSON.parse(r.stdout);
      } catch {
        throw new Error(`${label}: the CLI printed no JSON report (exit ${r.code}): ${r.stderr.slice(-3000)}`);
      }
      if (r.code !== 0 || report.status !== 'succeeded') throw new Error(`${label}: run ${report.status} (exit ${r.code}): ${JSON.stringify(report).slice(0, 2000)}\n${r.stderr.slice(-2000)}`);
      if (report.rows !== MESSAGES) throw new Error(`${label}: the run report says ${report.rows} rows, expected ${MESSAGES}`);
      // each file is seen twice: in its generation directory and through the stream's link to it
      const files = [...new Set(listFiles(out).filter((f) => f.endsWith('.parquet')).map((f) => realpathSync(f)))];
      const result = {
        what: `CLI run → Parquet, KAFKA_VALUE_FORMAT=${format}, NODE_OPTIONS=--max-old-space-size=256 (child process)`,
        ...rates(r.seconds),
        steady: rates(steadySeconds(r.stderr)),
        reportSeconds: report.durationSeconds,
        peakRssMb: r.peakRssKb / 1024,
        files: files.length,
        bytes: files.reduce((a, f) => a + statSync(f).size, 0),
      };
      rmSync(out, { recursive: true, force: true });
      return result;
    };
    if (ONLY.has('c')) results.parquet = await toParquet('→ Parquet (json)', 'json');
    if (ONLY.has('d')) results.parquetBytes = await toParquet('→ Parquet (bytes)', 'bytes');
  } finally {
    cleanup();
  }

  // ---- verdicts, table, JSON -------------------------------------------------------------------------------
  const ref = results.reference;
  for (const k of ['read', 'parquet', 'parquetBytes']) {
    if (!results[k] || !ref) continue;
    results[k].ratioToReference = results[k].messagesPerSecond / ref.messagesPerSecond;
    results[k].steady.ratioToReference = results[k].steady.messagesPerSecond / ref.steady.messagesPerSecond;
  }
  const checks = [];
  for (const [label, r] of [['(c) json', results.parquet], ['(d) bytes', results.parquetBytes]]) {
    if (!r) continue;
    if (ref) checks.push({ name: `${label} → Parquet steady state ≥ 0.1× kcat`, value: r.steady.ratioToReference, floor: `≥ ${FLOORS.parquetSteadyRatio}×`, pass: r.steady.ratioToReference >= FLOORS.parquetSteadyRatio, unit: '×' });
    checks.push({ name: `${label} → Parquet peak RSS < 400 MB (heap 256 MB)`, value: r.peakRssMb, floor: `< ${FLOORS.parquetRssMb} MB`, pass: r.peakRssMb < FLOORS.parquetRssMb, unit: 'MB' });
  }
  results.checks = checks;
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, 'kafka.json'), `${JSON.stringify(results, null, 2)}\n`);

  const n = (x) => Math.round(x).toLocaleString('en');
  log();
  log(`  ${'what'.padEnd(30)} ${'whole: s'.padStart(9)} ${'msg/s'.padStart(10)} ${'MB/s'.padStart(7)} ${'× ref'.padStart(6)}  ${'steady: s'.padStart(9)} ${'msg/s'.padStart(10)} ${'MB/s'.padStart(7)} ${'× ref'.padStart(6)} ${'peak RSS'.padStart(9)}`);
  const line = (label, r) =>
    r &&
    log(
      `  ${label.padEnd(30)} ${r.seconds.toFixed(2).padStart(9)} ${n(r.messagesPerSecond).padStart(10)} ${r.mbPerSecond.toFixed(0).padStart(7)} ${(r.ratioToReference ?? 1).toFixed(2).padStart(6)}  ${r.steady.seconds.toFixed(2).padStart(9)} ${n(r.steady.messagesPerSecond).padStart(10)} ${r.steady.mbPerSecond.toFixed(0).padStart(7)} ${(r.steady.ratioToReference ?? 1).toFixed(2).padStart(6)} ${`${r.peakRssMb.toFixed(0)} MB`.padStart(9)}`,
    );
  line('(a) kcat -C -e (reference)', ref);
  line('(b) kit read() only', results.read);
  line('(c) kit → Parquet, json values', results.parquet);
  line('(d) kit → Parquet, bytes values', results.parquetBytes);
  for (const [k, r] of [['c', results.parquet], ['d', results.parquetBytes]]) if (r) log(`      (${k}) run report ${r.reportSeconds.toFixed(2)} s; ${r.files} file(s), ${(r.bytes / 2 ** 20).toFixed(0)} MiB of Parquet; heap 256 MB`);
  log(`      steady state: kit from the first topic's first fetch to the last topic's end; kcat -G over every topic ${ref ? `(${ref.balancedSeconds.toFixed(2)} s)` : ''} minus the same on an empty topic${ref ? ` (${ref.balancedFixedSeconds.toFixed(2)} s)` : ''}`);
  log();
  for (const c of checks) log(`  ${c.pass ? '\x1b[32mPASS\x1b[0m' : '\x1b[31mFAIL\x1b[0m'}  ${c.name.padEnd(44)} ${`${c.value.toFixed(c.unit === '×' ? 2 : 0)}${c.unit === '×' ? '×' : ' MB'}`.padStart(10)}  (floor ${c.floor})`);
  log(`\n  figures: bench/results/kafka.json${PROFILE ? `; CPU profiles: ${profileDir}` : ''}`);

  function rates(seconds) {
    return { seconds, messagesPerSecond: MESSAGES / seconds, mbPerSecond: valueBytes / 2 ** 20 / seconds };
  }

  /** Seconds from the first "reading to the high watermarks" to the last "reached the high watermarks" log line. */
  function steadySeconds(stderr) {
    const times = (msg) =>
      stderr
        .split('\n')
        .filter((l) => l.includes(msg))
        .map((l) => JSON.parse(l).time)
        .map((t) => (typeof t === 'number' ? t : Date.parse(t)));
    const start = Math.min(...times('reading to the high watermarks'));
    const end = Math.max(...times('reached the high watermarks'));
    if (!Number.isFinite(start) || !Number.isFinite(end)) throw new Error('→ Parquet: no start/end log lines to measure the steady state (LOG_LEVEL=info)');
    return (end - start) / 1000;
  }

  /** Run a child; wall time, exit code, output and peak RSS (KiB). */
  function measure(cmd, args, { env = process.env, stdoutToNull = false } = {}) {
    const rssFile = join(tmp, `rss-${Math.random().toString(36).slice(2)}`);
    const [file, argv] = GNU_TIME ? [GNU_TIME, ['-f', '%M', '-o', rssFile, cmd, ...args]] : [cmd, args];
    const devnull = stdoutToNull ? openSync('/dev/null', 'w') : undefined;
    return new Promise((resolve, reject) => {
      const start = performance.now();
      const child = spawn(file, argv, { env, stdio: ['ignore', devnull ?? 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      let hwm = 0;
      const poll = GNU_TIME
        ? undefined
        : setInterval(() => {
            try {
              const m = /VmHWM:\s+(\d+)/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
              if (m) hwm = Math.max(hwm, Number(m[1]));
            } catch {
              /* exited */
            }
          }, 20);
      child.once('error', reject);
      child.once('close', (code) => {
        const seconds = (performance.now() - start) / 1000;
        if (poll) clearInterval(poll);
        if (devnull !== undefined) closeSync(devnull);
        let peakRssKb = hwm;
        if (GNU_TIME) {
          try {
            peakRssKb = Number(readFileSync(rssFile, 'utf8').trim().split('\n').at(-1));
            rmSync(rssFile, { force: true });
          } catch {
            /* time itself failed */
          }
        }
        resolve({ code, seconds, stdout, stderr, peakRssKb });
      });
    });
  }
}

function listFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isFile())
    .map((d) => join(d.parentPath ?? d.path, d.name));
}
