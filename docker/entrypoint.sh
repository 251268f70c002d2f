#!/bin/sh
# Datakits image entrypoint: size Node's heap from the container's memory limit, then exec the kit's
# CLI (`/app/dist/main.js spec|check|discover|run|state …`) so that node is PID 1 and receives
# SIGTERM/SIGINT directly (the kit stores its current batch and checkpoint, then exits 143/130).
#
# Without a flag, V8's heap limit depends on the memory it detects: Node 24 reads the cgroup limit and
# takes about half (259 MiB in a 512 Mi container); where the limit is missed it sizes from the host
# (GiBs), collects too late, and the pod is OOM-killed (exit 137). Here the size is explicit.
#
#   DATAKIT_HEAP_PERCENT   share of the cgroup memory limit given to the V8 old space (default 75;
#                          0 disables the sizing). Ignored when NODE_OPTIONS already has
#                          --max-old-space-size (an explicit setting always wins).
#   DATAKIT_HEAP_MIN_MB    floor for the computed size (default 64).
#
# The rest of the limit is left for buffers, sockets and the Node runtime itself.
set -eu

MAIN=${DATAKIT_MAIN:-/app/dist/main.js}
pct=${DATAKIT_HEAP_PERCENT:-75}
min_mb=${DATAKIT_HEAP_MIN_MB:-64}

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

heap_flag=""
case "${NODE_OPTIONS:-}" in
  *--max-old-space-size*) ;;
  *)
    case "$pct" in ''|*[!0-9]*) pct=75 ;; esac
    case "$min_mb" in ''|*[!0-9]*) min_mb=64 ;; esac
    if [ "$pct" -gt 0 ]; then
      limit=$(memory_limit)
      if [ -n "$limit" ]; then
        mb=$(( limit / 1048576 * pct / 100 ))
        [ "$mb" -lt "$min_mb" ] && mb=$min_mb
        heap_flag="--max-old-space-size=$mb"
      fi
    fi
    ;;
esac

if [ -n "${DATAKIT_ENTRYPOINT_DEBUG:-}" ]; then
  echo "datakit-entrypoint: memory limit ${limit:-none}, node ${heap_flag:-(default heap)} $MAIN $*" >&2
fi

if [ -n "$heap_flag" ]; then
  exec node "$heap_flag" "$MAIN" "$@"
fi
exec node "$MAIN" "$@"
