#!/bin/sh
# Datakits image entrypoint: size Node's heap from the container's memory limit, then exec the kit's
# CLI (`/app/dist/main.js spec|check|discover|run|state …`) so that node is PID 1 and receives
# SIGTERM/SIGINT directly (the kit stores its current batch and checkpoint, then exits 143/130).
#
# Without a flag, V8's heap limit depends on the memory it detects: Node 24 reads the cgroup limit and
# takes about half (259 MiB in a 512 Mi container); where the limit is missed it sizes from the host
# (GiBs), collects too late, and the pod is OOM-killed (exit 137). Here the size is explicit.
#
#   DATAKIT_HEAP_PERCENT   share of the cgroup memory limit given to the V8 heap, young generation
#                          included (default 75; 0 disables the sizing). The old space gets this
#                          share minus the young generation. Ignored when NODE_OPTIONS already has
#                          --max-old-space-size (an explicit setting always wins).
#   DATAKIT_HEAP_MIN_MB    floor for the computed old space (default 64).
#   DATAKIT_SEMI_SPACE_MB  V8 semi-space size given with a limit (the young generation is two of
#                          them; default 32 from a 512 Mi limit, 16 from 256 Mi, else 8; 0 leaves
#                          V8's default). Node 24's default (64 MB semi-spaces, 128 MB of young
#                          generation) does not fit a small pod next to its old space; 32 MB keeps
#                          nearly all of its speed (postgres → warehouse, 1M rows: 111k rows/s and
#                          216 MB peak RSS with 32 MB, 90k rows/s with 16 MB: a smaller young
#                          generation promotes each batch into the old space and collects it there).
#                          Ignored when NODE_OPTIONS already has --max-semi-space-size.
#
# The rest of the limit is left for buffers, sockets and the Node runtime itself.
set -eu

MAIN=${DATAKIT_MAIN:-/app/dist/main.js}
pct=${DATAKIT_HEAP_PERCENT:-75}
min_mb=${DATAKIT_HEAP_MIN_MB:-64}
semi_mb=${DATAKIT_SEMI_SPACE_MB:-}

# the container's memory limit in bytes, or nothing when unlimited / unknown
memory_limit() {
  v=""
  if [ -r /sys/fs/cgroup/memory.max ]; then                          # cgroup v2
    v=$(cat /sys/fs/cgroup/memory.max 2>/dev/null || true)
  elif [ -r /sys/fs/cgroup/memory/memory.limit_in_bytes ]; then       # cgroup v1
    v=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes 2>/dev/null || true)
  fi
  case "$v" in
    ''|max|*[!0-9]*) return 0 ;;
  esac
  # v1 reports "unlimited" as a huge number (9223372036854771712); treat >= 1 PiB (16+ digits) as none
  [ ${#v} -ge 16 ] && return 0
  echo "$v"
}

limit=$(memory_limit)
limit_mb=""
[ -n "$limit" ] && limit_mb=$(( limit / 1048576 ))

semi_flag=""
young_mb=0
case "${NODE_OPTIONS:-}" in
  *--max-semi-space-size*) ;;
  *)
    if [ -n "$limit_mb" ]; then
      case "$semi_mb" in
        ''|*[!0-9]*)
          if [ "$limit_mb" -ge 512 ]; then semi_mb=32
          elif [ "$limit_mb" -ge 256 ]; then semi_mb=16
          else semi_mb=8
          fi ;;
      esac
      if [ "$semi_mb" -gt 0 ]; then
        semi_flag="--max-semi-space-size=$semi_mb"
        young_mb=$(( 2 * semi_mb ))
      fi
    fi
    ;;
esac

heap_flag=""
case "${NODE_OPTIONS:-}" in
  *--max-old-space-size*) ;;
  *)
    case "$pct" in ''|*[!0-9]*) pct=75 ;; esac
    case "$min_mb" in ''|*[!0-9]*) min_mb=64 ;; esac
    if [ "$pct" -gt 0 ] && [ -n "$limit_mb" ]; then
      mb=$(( limit_mb * pct / 100 - young_mb ))
      [ "$mb" -lt "$min_mb" ] && mb=$min_mb
      heap_flag="--max-old-space-size=$mb"
    fi
    ;;
esac

if [ -n "${DATAKIT_ENTRYPOINT_DEBUG:-}" ]; then
  echo "datakit-entrypoint: memory limit ${limit:-none}, node ${heap_flag:-(default heap)} ${semi_flag:-(default young generation)} $MAIN $*" >&2
fi

# word splitting of the unquoted flags is intended: each is empty or one word
# shellcheck disable=SC2086
exec node $heap_flag $semi_flag "$MAIN" "$@"
