#!/usr/bin/env bash
# Image tests (CI runs this after the unit and integration tests): build every kit's image with
# docker/build.sh --all and run the images the way an orchestrator would (`--network host`, non-root,
# memory-limited, volumes, secrets as files) against real services on 127.0.0.1.
#
# Every image:    OCI labels, tags, user 1000; `spec` → exit 0 + JSON (read-only root filesystem);
#                 heap sized from the memory limit; ≤ MAX_EXTRA_MB (60) above the Node base.
# postgres image: check (good credentials → 0; SOURCE_PASSWORD_FILE → 0; bad password → 3 and no
#                 password in the output); discover; run → Parquet on a mounted volume (read back with
#                 DuckDB: rows, sum(id), no duplicates; state file); run → Postgres warehouse
#                 (bronze.br_orders, bronze._datakit_state); for each target, `docker stop` during a
#                 2M-row run → exit 143 within 10 s, not OOM-killed, state stored; the resumed run then
#                 lands exactly the source's rows, no duplicates.
# rest image:     check against a local HTTP API (REST_TOKEN_FILE → 0; bad token → 3, no token in the
#                 output); run → Parquet (rows and sum(id) read back with DuckDB).
# kafka image:    check against librdkafka's mock cluster (kcat) → 0; unreachable broker → 3, no SASL
#                 password in the output; run → Parquet (message count read back with DuckDB).
# file image:     a read-only mounted input directory: check → 0, run → Parquet (rows, sum(id), no
#                 duplicates read back with DuckDB); a real SFTP server (sshd): check with
#                 SFTP_PASSWORD_FILE → 0, bad password → 3 and no password in the output, run → Parquet.
# Other kits:     spec, and `check` without configuration → exit 2 (config error), with a NOTE.
#
# Needs root (dockerd; PostgreSQL runs as the postgres user), Node 24 (.tools/node24 or PATH) with the
# workspace installed (`pnpm install`), postgresql-15, kcat (for the kafka kit), and ../shared/tools/docker-setup.sh beside the
# clone (or a working docker). Env: KEEP_WORK=1 keeps the work dir; BIG_ROWS (default 2000000).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$ROOT"
T0=$(date +%s)
[ -x "$ROOT/.tools/node24/node_modules/.bin/node" ] && export PATH="$ROOT/.tools/node24/node_modules/.bin:$PATH"
HELPER="node $ROOT/tests/images/helper.mjs"
BIG_ROWS=${BIG_ROWS:-2000000}
export MAX_EXTRA_MB=${MAX_EXTRA_MB:-60}

step() { echo "== $(( $(date +%s) - T0 ))s: $*"; }
pass() { echo "   ok  $*"; }
fail() { echo "   FAIL  $*" >&2; exit 1; }
since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }

WORK=$(mktemp -d /tmp/datakit-images.XXXXXX)
chmod 755 "$WORK"
PIDS=()
cleanup() {
  local rc=$?
  for c in $("${DOCKER:-docker}" ps -aq --filter name=datakit-imgtest- 2>/dev/null); do "${DOCKER:-docker}" rm -f "$c" >/dev/null 2>&1 || true; done
  for p in "${PIDS[@]}"; do
    if kill -0 "$p" 2>/dev/null; then kill -TERM "$p" 2>/dev/null || true; wait "$p" 2>/dev/null || true; fi
  done
  if [ "${KEEP_WORK:-}" = 1 ] || [ $rc != 0 ]; then echo "   (work dir kept: $WORK)" >&2; else rm -rf "$WORK"; fi
  [ $rc = 0 ] || echo "== image tests FAILED (exit $rc) after $(( $(date +%s) - T0 ))s" >&2
}
trap cleanup EXIT

# ---------------------------------------------------------------------------------------------------
step "docker engine and base images"
if [ -f "$ROOT/../shared/tools/docker-setup.sh" ]; then
  bash "$ROOT/../shared/tools/docker-setup.sh" 2>&1 | sed 's/^/   /'
  # the stand-in base carries the node first on PATH: build on the image it tagged
  # (node:24-bookworm-slim with .tools/node24, node:22-… on a machine whose own node is 22)
  export NODE_IMAGE=${NODE_IMAGE:-node:$(node -p 'process.versions.node.split(".")[0]')-bookworm-slim}
elif ! docker info >/dev/null 2>&1; then
  fail "no docker engine and no ../shared/tools/docker-setup.sh"
fi
# a client that can build with BuildKit (docker/build.sh picks one the same way); any client runs
for d in $(type -ap docker) /usr/bin/docker; do
  if "$d" buildx version >/dev/null 2>&1; then DOCKER=$d; break; fi
  v=$("$d" version --format '{{.Client.Version}}' 2>/dev/null || true)
  case "$v" in [0-9]*) if [ "${v%%.*}" -lt 23 ]; then DOCKER=$d; break; fi ;; esac
done
export DOCKER=${DOCKER:-docker}
docker() { "$DOCKER" "$@"; }

# ---------------------------------------------------------------------------------------------------
step "services on 127.0.0.1: PostgreSQL (source + warehouse, seeding ${BIG_ROWS} rows in the background), HTTP API, Kafka mock"
$HELPER serve "$WORK/pg.json" "$BIG_ROWS" 2>"$WORK/pg.log" &
PIDS+=($!)
PG_PID=$!
$HELPER serve-api "$WORK/api.json" 2>"$WORK/api.log" &
PIDS+=($!)
if [ -d kits/file ]; then
  [ -x /usr/sbin/sshd ] || fail "sshd is needed for the file image's SFTP test (apt-get install openssh-server)"
  $HELPER serve-files "$WORK/files.json" 2>"$WORK/files.log" &
  PIDS+=($!)
fi
if [ -d kits/kafka ]; then
  command -v kcat >/dev/null || fail "kcat is needed for the kafka image (apt-get install kcat)"
  $HELPER serve-kafka "$WORK/kafka.json" 2>"$WORK/kafka.log" &
  PIDS+=($!)
fi

# ---------------------------------------------------------------------------------------------------
step "build every kit's image (docker/build.sh --all)"
tb=$(date +%s)
BUILD_SUMMARY="$WORK/builds.tsv" docker/build.sh --all 2>&1 | sed 's/^/   /' || fail "docker/build.sh --all"
BUILD_SECS=$(( $(date +%s) - tb ))

for _ in $(seq 240); do
  [ -s "$WORK/pg.json" ] && [ -s "$WORK/api.json" ] && break
  kill -0 "$PG_PID" 2>/dev/null || { cat "$WORK/pg.log" >&2; fail "PostgreSQL helper exited"; }
  sleep 0.5
done
[ -s "$WORK/pg.json" ] || { cat "$WORK/pg.log" >&2; fail "PostgreSQL not ready after 120 s"; }
[ -s "$WORK/api.json" ] || { cat "$WORK/api.log" >&2; fail "HTTP API not ready"; }
if [ -d kits/file ]; then
  for _ in $(seq 60); do [ -s "$WORK/files.json" ] && break; sleep 0.5; done
  [ -s "$WORK/files.json" ] || { cat "$WORK/files.log" >&2; fail "file inputs (local + SFTP) not ready"; }
fi
if [ -d kits/kafka ]; then
  for _ in $(seq 60); do [ -s "$WORK/kafka.json" ] && break; sleep 0.5; done
  [ -s "$WORK/kafka.json" ] || { cat "$WORK/kafka.log" >&2; fail "Kafka mock cluster not ready"; }
fi
sed 's/^/   /' "$WORK/pg.log"
jv() { node -p "JSON.parse(require('fs').readFileSync('$1', 'utf8')).$2"; }   # jv <json file> <path>
SRC_URL=$(jv "$WORK/pg.json" sourceUrl)
WH_URL=$(jv "$WORK/pg.json" warehouseUrl)
PG_PASSWORD=$(jv "$WORK/pg.json" password)
PG_PORT=$(jv "$WORK/pg.json" port)

# dk_run <out-prefix> [docker run args…] -- <image> [kit args…]: sets RC; stdout/stderr in <out>.out/.err
dk_run() {
  local out=$1; shift
  local dargs=(); while [ $# -gt 0 ] && [ "$1" != -- ]; do dargs+=("$1"); shift; done; shift
  set +e
  docker run --rm --network host "${dargs[@]}" "$@" >"$out.out" 2>"$out.err"
  RC=$?
  set -e
}
expect_rc() { # expect_rc <want> <what> <out-prefix>
  if [ "$RC" != "$1" ]; then
    echo "--- stdout" >&2; tail -c 3000 "$3.out" >&2; echo "--- stderr" >&2; tail -c 3000 "$3.err" >&2
    fail "$2: exit $RC, expected $1"
  fi
}
no_secret() { # no_secret <out-prefix> <what> <secret>…: none of the secrets in stdout or stderr
  local out=$1 what=$2; shift 2
  for s in "$@"; do
    if grep -qF -- "$s" "$out.out" "$out.err"; then fail "$what printed a secret: $(grep -hF -- "$s" "$out.out" "$out.err" | head -3)"; fi
  done
}
writable_dir() { mkdir -p "$1"; chown 1000:1000 "$1"; }

# ---------------------------------------------------------------------------------------------------
test_image_basics() { # every image
  lv=$(docker image inspect -f '{{index .Config.Labels "org.opencontainers.image.version"}}' "$IMG")
  [ "$lv" = "$version" ] || fail "$IMG: label org.opencontainers.image.version=$lv"
  for l in title source revision created; do
    v=$(docker image inspect -f "{{index .Config.Labels \"org.opencontainers.image.$l\"}}" "$IMG")
    [ -n "$v" ] || fail "$IMG: label org.opencontainers.image.$l is empty"
  done
  user=$(docker image inspect -f '{{.Config.User}}' "$IMG")
  [ "$user" = 1000:1000 ] || fail "$IMG: user '$user', expected 1000:1000"
  docker image inspect "etl/$kit-extractor:latest" >/dev/null || fail "etl/$kit-extractor:latest missing"
  pass "labels (version $lv), user $user, tags $version + latest"

  dk_run "$O.spec" --read-only "$IMG" -- spec
  expect_rc 0 "$kit spec" "$O.spec"
  $HELPER json "$O.spec.out" "j.kit === '$kit' && j.version === '$version' && typeof j.config === 'object'" || fail "$kit spec JSON"
  pass "spec → exit 0, JSON (kit $kit $version), read-only root filesystem"

  dk_run "$O.heap" -m 512m -e DATAKIT_ENTRYPOINT_DEBUG=1 "$IMG" -- --version
  expect_rc 0 "$kit --version" "$O.heap"
  # 75 % of the limit for the heap: two 32 MB semi-spaces, the rest old space
  grep -q -- '--max-old-space-size=320 --max-semi-space-size=32 ' "$O.heap.err" || fail "$kit: heap not sized from a 512m limit: $(cat "$O.heap.err")"
  grep -qx "$version" "$O.heap.out" || fail "$kit --version printed $(cat "$O.heap.out")"
  dk_run "$O.heap2" -m 256m -e DATAKIT_ENTRYPOINT_DEBUG=1 "$IMG" -- --version
  expect_rc 0 "$kit --version in 256m" "$O.heap2"
  grep -q -- '--max-old-space-size=160 --max-semi-space-size=16 ' "$O.heap2.err" || fail "$kit: heap not sized from a 256m limit: $(cat "$O.heap2.err")"
  pass "-m 512m → node --max-old-space-size=320 --max-semi-space-size=32; -m 256m → 160 and 16"
}

test_generic() { # kits without a scenario here: configuration errors are exit 2
  dk_run "$O.check" "$IMG" -- check
  expect_rc 2 "$kit check without configuration" "$O.check"
  pass "check without configuration → exit 2"
  echo "   NOTE  $kit: no service scenario in tests/images/run.sh yet (spec and config errors only)"
}

test_postgres() {
  local bad_pw='N0t-The-Passw0rd-7f3c9e'
  local bad_url="postgres://postgres:${bad_pw}@127.0.0.1:${PG_PORT}/source"
  local nopw_url="postgres://postgres@127.0.0.1:${PG_PORT}/source"

  # ---- check ----
  dk_run "$O.check" -e SOURCE_DATABASE_URL="$SRC_URL" "$IMG" -- check
  expect_rc 0 "postgres check (good credentials)" "$O.check"
  $HELPER json "$O.check.out" "j.status === 'succeeded'" || fail "check JSON"
  pass "check, good credentials → exit 0 (default bronze target /data/bronze)"

  mkdir -p "$WORK/secrets"; printf '%s\n' "$PG_PASSWORD" >"$WORK/secrets/source-password"; chmod 644 "$WORK/secrets/source-password"
  dk_run "$O.checkfile" -v "$WORK/secrets:/var/run/secrets/datakit:ro" -e SOURCE_DATABASE_URL="$nopw_url" \
    -e SOURCE_PASSWORD_FILE=/var/run/secrets/datakit/source-password "$IMG" -- check
  expect_rc 0 "postgres check (SOURCE_PASSWORD_FILE)" "$O.checkfile"
  pass "check, password from a mounted secret file (SOURCE_PASSWORD_FILE) → exit 0"

  dk_run "$O.bad" -e SOURCE_DATABASE_URL="$bad_url" -e MAX_RETRIES=0 "$IMG" -- check
  expect_rc 3 "postgres check (bad password)" "$O.bad"
  no_secret "$O.bad" "check with a bad password" "$bad_pw" "$PG_PASSWORD"
  $HELPER json "$O.bad.out" "j.status === 'failed' && typeof j.error.code === 'string'" >/dev/null || fail "bad check JSON"
  pass "check, bad password → exit 3 ($(jv "$O.bad.out" error.code)), no password in stdout/stderr"

  # ---- discover ----
  dk_run "$O.discover" -e SOURCE_DATABASE_URL="$SRC_URL" "$IMG" -- discover
  expect_rc 0 "postgres discover" "$O.discover"
  ORDERS=$($HELPER json "$O.discover.out" "j.streams.map(s => s.name).find(n => n === 'orders' || n === 'public.orders')") || fail "discover: no orders stream"
  EVENTS=$($HELPER json "$O.discover.out" "j.streams.map(s => s.name).find(n => n === 'events' || n === 'public.events')") || fail "discover: no events stream"
  local br_orders=${ORDERS//./_} br_events=${EVENTS//./_}
  pass "discover → streams $ORDERS, $EVENTS"

  local ord_rows ord_sum ev_rows ev_sum
  read -r ord_rows ord_sum < <($HELPER source-stats "$SRC_URL" public.orders | node -e 'const j=JSON.parse(require("fs").readFileSync(0));console.log(j.rows,j.sumId)')
  read -r ev_rows ev_sum < <($HELPER source-stats "$SRC_URL" public.events | node -e 'const j=JSON.parse(require("fs").readFileSync(0));console.log(j.rows,j.sumId)')
  [ -n "$ord_rows" ] && [ -n "$ev_rows" ] || fail "source row counts"

  # ---- run → Parquet on a mounted volume (the default target /data/bronze) ----
  writable_dir "$WORK/pq"
  local t; t=$(date +%s.%N)
  dk_run "$O.runpq" -m 512m -v "$WORK/pq:/data" -e SOURCE_DATABASE_URL="$SRC_URL" "$IMG" -- run "$ORDERS"
  expect_rc 0 "postgres run → Parquet" "$O.runpq"
  $HELPER json "$O.runpq.out" "j.status === 'succeeded' && j.rows === $ord_rows" || fail "run report"
  $HELPER parquet "$WORK/pq/bronze/postgres/$br_orders" "$ord_rows" "$ord_sum" --distinct >"$O.verify" || fail "Parquet output of $ORDERS"
  sed 's/^/        /' "$O.verify"
  [ -s "$WORK/pq/bronze/_state/postgres.json" ] || fail "no state file bronze/_state/postgres.json: $(cd "$WORK/pq" && find . | head -20)"
  pass "run $ORDERS → Parquet on a volume: $ord_rows rows, sum(id) $ord_sum (DuckDB), state file; $(since "$t")s"

  # ---- run → Postgres warehouse ----
  t=$(date +%s.%N)
  dk_run "$O.runwh" -m 512m -e SOURCE_DATABASE_URL="$SRC_URL" -e WAREHOUSE_DATABASE_URL="$WH_URL" "$IMG" -- run "$ORDERS"
  expect_rc 0 "postgres run → warehouse" "$O.runwh"
  $HELPER json "$O.runwh.out" "j.status === 'succeeded' && j.rows === $ord_rows" || fail "run report (warehouse)"
  $HELPER warehouse "$WH_URL" "br_$br_orders" "$ord_rows" "$ord_sum" >"$O.verify" || fail "warehouse output of $ORDERS"
  sed 's/^/        /' "$O.verify"
  pass "run $ORDERS → warehouse: bronze.br_$br_orders has $ord_rows rows, bronze._datakit_state has state; $(since "$t")s"

  # ---- docker stop (SIGTERM) during a big run: exit 143 within 10 s, state stored; then resume ----
  writable_dir "$WORK/big"
  local pq_state="$WORK/big/bronze/_state/postgres.json"
  pq_state_stored() { [ -s "$pq_state" ] && $HELPER json "$pq_state" "JSON.stringify(j).includes('$EVENTS')" >/dev/null 2>&1; }
  wh_state_stored() { $HELPER state-row "$WH_URL" "$EVENTS" 2>/dev/null; }

  stop_big_run "Parquet" pq_state_stored -v "$WORK/big:/data"
  t=$(date +%s.%N)
  dk_run "$O.resume" -m 512m -v "$WORK/big:/data" -e SOURCE_DATABASE_URL="$SRC_URL" -e BATCH_SIZE=50000 "$IMG" -- run "$EVENTS"
  expect_rc 0 "postgres resumed run → Parquet" "$O.resume"
  $HELPER parquet "$WORK/big/bronze/postgres/$br_events" "$ev_rows" "$ev_sum" --distinct >"$O.verify" || fail "Parquet output of the resumed $EVENTS"
  sed 's/^/        /' "$O.verify"
  pass "resumed run $EVENTS → Parquet: exactly $ev_rows distinct rows; $(since "$t")s"

  stop_big_run "warehouse" wh_state_stored -e WAREHOUSE_DATABASE_URL="$WH_URL"
  t=$(date +%s.%N)
  dk_run "$O.resumewh" -m 512m -e SOURCE_DATABASE_URL="$SRC_URL" -e WAREHOUSE_DATABASE_URL="$WH_URL" -e BATCH_SIZE=50000 "$IMG" -- run "$EVENTS"
  expect_rc 0 "postgres resumed run → warehouse" "$O.resumewh"
  $HELPER warehouse "$WH_URL" "br_$br_events" "$ev_rows" "$ev_sum" >"$O.verify" || fail "warehouse output of the resumed $EVENTS"
  sed 's/^/        /' "$O.verify"
  pass "resumed run $EVENTS → warehouse: exactly $ev_rows distinct rows in bronze.br_$br_events; $(since "$t")s"
}

# stop_big_run <label> <state-stored-fn> [docker run args for the target…]: start `run $EVENTS` with
# small batches, wait until its first checkpoint is stored, `docker stop` it (SIGTERM), and check: exit
# 143 within 10 s, not OOM-killed, run report "interrupted", state still stored.
stop_big_run() {
  local label=$1 stored=$2; shift 2
  local name="datakit-imgtest-stop-$$-${label,,}" out="$O.stop-${label,,}"
  docker run -d --name "$name" --network host -m 512m "$@" \
    -e SOURCE_DATABASE_URL="$SRC_URL" -e BATCH_SIZE=200 -e SOURCE_CHUNK_ROWS=20000 -e PARQUET_ROLL_ROWS=20000 \
    "$IMG" run "$EVENTS" >/dev/null
  for _ in $(seq 240); do
    "$stored" && break
    [ "$(docker inspect -f '{{.State.Running}}' "$name")" = true ] || break
    sleep 0.25
  done
  [ "$(docker inspect -f '{{.State.Running}}' "$name")" = true ] || { docker logs "$name" 2>&1 | tail -20 >&2; fail "$label: the big run ended before it could be stopped"; }
  "$stored" || { docker logs "$name" 2>&1 | tail -20 >&2; fail "$label: no state stored after 60 s of the big run"; }
  sleep 0.5
  local ts secs code oom
  ts=$(date +%s.%N)
  docker stop -t 15 "$name" >/dev/null
  secs=$(since "$ts")
  code=$(docker inspect -f '{{.State.ExitCode}}' "$name")
  oom=$(docker inspect -f '{{.State.OOMKilled}}' "$name")
  docker logs "$name" >"$out.out" 2>"$out.err" || true
  docker rm "$name" >/dev/null
  [ "$code" = 143 ] || { tail -c 2000 "$out.err" >&2; fail "$label: docker stop → exit $code, expected 143"; }
  [ "$oom" = false ] || fail "$label: the big run was OOM-killed"
  awk -v s="$secs" 'BEGIN { exit !(s < 10) }' || fail "$label: docker stop took ${secs}s (limit 10 s)"
  "$stored" || fail "$label: no state for $EVENTS after the stop"
  $HELPER json "$out.out" "j.status === 'interrupted'" || fail "$label: stopped run report"
  pass "docker stop during run $EVENTS → $label ($(jv "$out.out" rows) rows stored): exit 143 in ${secs}s, not OOM-killed, state stored"
}

test_rest() {
  local api_url token rows sum_id
  api_url=$(jv "$WORK/api.json" url); token=$(jv "$WORK/api.json" token)
  rows=$(jv "$WORK/api.json" rows); sum_id=$(jv "$WORK/api.json" sumId)
  local cfg="$WORK/rest-config"; mkdir -p "$cfg"
  cat >"$cfg/api.yaml" <<EOF
base_url: $api_url
auth: { type: bearer }
streams:
  - name: items
    path: /items
    record_selector: \$.data
    primary_key: [id]
    pagination: { type: offset, limit: 25, total_path: \$.total }
EOF
  printf '%s\n' "$token" >"$cfg/token"; chmod 644 "$cfg/api.yaml" "$cfg/token"
  local mount=(-v "$cfg:/config:ro" -e REST_CONFIG=/config/api.yaml)

  dk_run "$O.check" "${mount[@]}" -e REST_TOKEN_FILE=/config/token "$IMG" -- check
  expect_rc 0 "rest check (REST_TOKEN_FILE)" "$O.check"
  pass "check, token from a mounted secret file (REST_TOKEN_FILE) → exit 0"

  local bad='bad-token-0d9a7f31c2'
  dk_run "$O.bad" "${mount[@]}" -e REST_TOKEN="$bad" -e MAX_RETRIES=0 "$IMG" -- check
  expect_rc 3 "rest check (bad token)" "$O.bad"
  no_secret "$O.bad" "rest check with a bad token" "$bad" "$token"
  pass "check, bad token → exit 3 ($(jv "$O.bad.out" error.code)), no token in stdout/stderr"

  writable_dir "$WORK/rest-pq"
  dk_run "$O.run" -m 512m "${mount[@]}" -v "$WORK/rest-pq:/data" -e REST_TOKEN_FILE=/config/token "$IMG" -- run items
  expect_rc 0 "rest run → Parquet" "$O.run"
  $HELPER json "$O.run.out" "j.status === 'succeeded' && j.rows === $rows" || fail "rest run report"
  $HELPER parquet "$WORK/rest-pq/bronze/rest/items" "$rows" "$sum_id" --distinct --source=rest >"$O.verify" || fail "Parquet output of items"
  sed 's/^/        /' "$O.verify"
  pass "run items → Parquet on a volume: $rows rows, sum(id) $sum_id (DuckDB)"
}

test_kafka() {
  local brokers topic rows
  brokers=$(jv "$WORK/kafka.json" brokers); topic=$(jv "$WORK/kafka.json" topic); rows=$(jv "$WORK/kafka.json" rows)
  dk_run "$O.check" -e KAFKA_BROKERS="$brokers" -e KAFKA_TOPICS="$topic" "$IMG" -- check
  expect_rc 0 "kafka check" "$O.check"
  pass "check against librdkafka's mock cluster → exit 0"

  # the mock cluster has no SASL: "bad credentials" here is an unreachable broker, with a SASL password
  # that must not show up anywhere
  local bad='kafka-S3cret-91xq'
  dk_run "$O.bad" -e KAFKA_BROKERS=127.0.0.1:9 -e KAFKA_TOPICS="$topic" -e KAFKA_SASL_MECHANISM=plain -e KAFKA_SASL_USERNAME=etl \
    -e KAFKA_SASL_PASSWORD="$bad" -e KAFKA_CONNECTION_TIMEOUT_MS=2000 -e MAX_RETRIES=0 "$IMG" -- check
  expect_rc 3 "kafka check (unreachable broker)" "$O.bad"
  no_secret "$O.bad" "kafka check with an unreachable broker" "$bad"
  pass "check, unreachable broker → exit 3 ($(jv "$O.bad.out" error.code)), no SASL password in stdout/stderr"

  writable_dir "$WORK/kafka-pq"
  dk_run "$O.run" -m 512m -v "$WORK/kafka-pq:/data" -e KAFKA_BROKERS="$brokers" -e KAFKA_TOPICS="$topic" "$IMG" -- run
  expect_rc 0 "kafka run → Parquet" "$O.run"
  $HELPER json "$O.run.out" "j.status === 'succeeded' && j.rows === $rows" || fail "kafka run report"
  $HELPER parquet "$WORK/kafka-pq/bronze/kafka/$topic" "$rows" - --source=kafka >"$O.verify" || fail "Parquet output of $topic"
  sed 's/^/        /' "$O.verify"
  pass "run $topic → Parquet on a volume: $rows messages (DuckDB)"
}

test_file() {
  local local_dir sftp_url sftp_pw host_key rows sum_id
  local_dir=$(jv "$WORK/files.json" local); sftp_url=$(jv "$WORK/files.json" sftpUrl); sftp_pw=$(jv "$WORK/files.json" password)
  host_key=$(jv "$WORK/files.json" hostKey); rows=$(jv "$WORK/files.json" rows); sum_id=$(jv "$WORK/files.json" sumId)
  local streams=(-e 'FILE_STREAMS=orders=orders/*.csv' -e FILE_PRIMARY_KEYS=orders=id)
  local inmount=(-v "$local_dir:/input:ro" -e FILE_URL=file:///input)

  dk_run "$O.check" "${inmount[@]}" "${streams[@]}" "$IMG" -- check
  expect_rc 0 "file check (mounted directory)" "$O.check"
  pass "check, files on a read-only mounted directory → exit 0"

  writable_dir "$WORK/file-pq"
  dk_run "$O.run" -m 512m "${inmount[@]}" "${streams[@]}" -v "$WORK/file-pq:/data" "$IMG" -- run
  expect_rc 0 "file run (mounted directory) → Parquet" "$O.run"
  $HELPER json "$O.run.out" "j.status === 'succeeded' && j.rows === $rows" || fail "file run report"
  $HELPER parquet "$WORK/file-pq/bronze/file/orders" "$rows" "$sum_id" --distinct --source=file >"$O.verify" || fail "Parquet output of orders"
  sed 's/^/        /' "$O.verify"
  pass "run orders → Parquet on a volume: $rows rows, sum(id) $sum_id (DuckDB)"

  local cfg="$WORK/file-secrets"; mkdir -p "$cfg"
  printf '%s' "$sftp_pw" >"$cfg/sftp-password"; chmod 644 "$cfg/sftp-password"
  local sftp=(-v "$cfg:/run/secrets:ro" -e FILE_URL="$sftp_url" -e SFTP_HOST_KEY_SHA256="$host_key")
  dk_run "$O.scheck" "${sftp[@]}" "${streams[@]}" -e SFTP_PASSWORD_FILE=/run/secrets/sftp-password "$IMG" -- check
  expect_rc 0 "file check (SFTP, SFTP_PASSWORD_FILE)" "$O.scheck"
  pass "check against a real SFTP server, password from a mounted secret file → exit 0"

  local bad='sftp-Wr0ng-pw-5e1c'
  dk_run "$O.sbad" "${sftp[@]}" "${streams[@]}" -e SFTP_PASSWORD="$bad" -e MAX_RETRIES=0 "$IMG" -- check
  expect_rc 3 "file check (SFTP, bad password)" "$O.sbad"
  no_secret "$O.sbad" "file check with a bad SFTP password" "$bad" "$sftp_pw"
  pass "check, bad SFTP password → exit 3 ($(jv "$O.sbad.out" error.code)), no password in stdout/stderr"

  writable_dir "$WORK/file-sftp-pq"
  dk_run "$O.srun" -m 512m "${sftp[@]}" "${streams[@]}" -e SFTP_PASSWORD_FILE=/run/secrets/sftp-password -v "$WORK/file-sftp-pq:/data" "$IMG" -- run
  expect_rc 0 "file run (SFTP) → Parquet" "$O.srun"
  $HELPER parquet "$WORK/file-sftp-pq/bronze/file/orders" "$rows" "$sum_id" --distinct --source=file >"$O.sverify" || fail "Parquet output of orders (SFTP)"
  pass "run orders from SFTP → Parquet on a volume: $rows rows, sum(id) $sum_id (DuckDB)"
}

# ---------------------------------------------------------------------------------------------------
for dir in kits/*/; do
  kit=$(basename "$dir")
  [ -f "$dir/package.json" ] || continue
  version=$(jv "$ROOT/kits/$kit/package.json" version)
  IMG="etl/$kit-extractor:$version"
  O="$WORK/$kit"
  step "$IMG"
  test_image_basics
  case "$kit" in
    postgres) test_postgres ;;
    rest) test_rest ;;
    kafka) test_kafka ;;
    file) test_file ;;
    *) test_generic ;;
  esac
done

# ---------------------------------------------------------------------------------------------------
step "summary"
base=$(awk -F'\t' 'NR == 1 { print $4 }' "$WORK/builds.tsv")
echo "   base ${NODE_IMAGE:-node:24-bookworm-slim}: $(awk -v b="$base" 'BEGIN { printf "%.1f", b / 1e6 }') MB"
while IFS=$'\t' read -r image ver size _ secs; do
  printf '   %-36s %6.1f MB  (+%5.1f MB over the base)  built in %5.1fs\n' "$image:$ver" \
    "$(awk -v b="$size" 'BEGIN { print b / 1e6 }')" "$(awk -v b="$size" -v c="$base" 'BEGIN { print (b - c) / 1e6 }')" "$secs"
done <"$WORK/builds.tsv"
echo "   builds ${BUILD_SECS}s in all; image tests passed in $(( $(date +%s) - T0 ))s"
