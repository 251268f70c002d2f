#!/usr/bin/env bash
# Build (and optionally push) the image of one kit, several, or all of them with docker/Dockerfile.
#
#   docker/build.sh postgres                 # etl/postgres-extractor:<version> and :latest
#   docker/build.sh --all                    # every kits/*/ (no hard-coded list)
#   REGISTRY=registry.example.com docker/build.sh postgres --push
#                                            # registry.example.com/etl/postgres-extractor:<version>, :latest
#
# The version is kits/<kit>/package.json "version" (bumped by changesets: docs/releasing.md).
# Options:  --all  --push  --no-latest  --no-cache  -v|--verbose (stream the build log)  -h|--help
# Env:      REGISTRY      registry/namespace prefix for the tags (none: local `etl/...`)
#           NODE_IMAGE    base image (default node:24-bookworm-slim; any Node >= 22 Debian image)
#           REVISION      default `git rev-parse HEAD` (+ "-dirty" with uncommitted changes)
#           CREATED       default now (or SOURCE_DATE_EPOCH), RFC 3339 UTC
#           SOURCE_URL    org.opencontainers.image.source (default: the git remote "origin", as https)
#           DOCKER        docker client to use (default: the first one on PATH that can use BuildKit)
#           BUILD_SUMMARY append one TSV line per image: image, version, size bytes, base bytes, seconds
#           MAX_EXTRA_MB  fail when an image is more than this many MB above its base (default: warn at 60)
# Builds use the host network (`--network host`) and never pull (`--pull` is not passed), so the local
# base image is used as is; a missing base is pulled by docker only when a registry is reachable.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

usage() { sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; }

all=0 push=0 latest=1 verbose=0 nocache=()
kits=()
while [ $# -gt 0 ]; do
  case "$1" in
    --all) all=1 ;;
    --push) push=1 ;;
    --no-latest) latest=0 ;;
    --no-cache) nocache=(--no-cache) ;;
    -v|--verbose) verbose=1 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "build.sh: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) kits+=("${1%/}") ;;
  esac
  shift
done

available=()
for d in kits/*/; do
  [ -f "${d}package.json" ] && available+=("$(basename "$d")")
done
if [ $all = 1 ]; then
  kits=("${available[@]}")
fi
if [ ${#kits[@]} -eq 0 ]; then
  echo "build.sh: name a kit or pass --all (kits: ${available[*]:-none})" >&2
  exit 2
fi

# a docker client that can build with BuildKit: one with the buildx plugin, or a pre-23 client
# (which has BuildKit built in and ignores the missing plugin)
pick_docker() {
  local d v
  for d in $(type -ap docker) /usr/bin/docker; do
    [ -x "$d" ] || continue
    if "$d" buildx version >/dev/null 2>&1; then echo "$d"; return; fi
    v=$("$d" version --format '{{.Client.Version}}' 2>/dev/null || true)
    case "$v" in [0-9]*) [ "${v%%.*}" -lt 23 ] && { echo "$d"; return; } ;; esac
  done
  command -v docker || echo docker
}
DOCKER=${DOCKER:-$(pick_docker)}
export DOCKER_BUILDKIT=1

# package.json "name" / "version" without needing node on the host
json_field() { sed -n "s/^  \"$2\": *\"\([^\"]*\)\".*/\1/p" "$1" | head -n 1; }

NODE_IMAGE=${NODE_IMAGE:-node:24-bookworm-slim}
if [ -z "${REVISION:-}" ]; then
  REVISION=$(git rev-parse HEAD 2>/dev/null || echo unknown)
  if [ "$REVISION" != unknown ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
    REVISION="$REVISION-dirty"
  fi
fi
if [ -z "${CREATED:-}" ]; then
  if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then CREATED=$(date -u -d "@$SOURCE_DATE_EPOCH" +%Y-%m-%dT%H:%M:%SZ)
  else CREATED=$(date -u +%Y-%m-%dT%H:%M:%SZ); fi
fi
if [ -z "${SOURCE_URL:-}" ]; then
  SOURCE_URL=$(git remote get-url origin 2>/dev/null || true)
  SOURCE_URL=$(printf '%s' "$SOURCE_URL" | sed -E 's#^git@([^:]+):#https://\1/#; s#^ssh://git@#https://#; s#\.git$##; s#//[^/@]*@#//#')
  [ -n "$SOURCE_URL" ] || SOURCE_URL=https://github.com/datakits/datakits
fi
prefix=${REGISTRY:+${REGISTRY%/}/}

mb() { awk -v b="$1" 'BEGIN { printf "%.1f", b / 1000000 }'; }

if ! "$DOCKER" image inspect "$NODE_IMAGE" >/dev/null 2>&1; then
  echo "build.sh: base image $NODE_IMAGE is not present locally; docker will try to pull it" >&2
fi
base_size=$("$DOCKER" image inspect -f '{{.Size}}' "$NODE_IMAGE" 2>/dev/null || echo 0)
max_extra=${MAX_EXTRA_MB:-}
logdir=$(mktemp -d)
trap 'rm -rf "$logdir"' EXIT

status=0
summary=()
for kit in "${kits[@]}"; do
  pj="kits/$kit/package.json"
  if [ ! -f "$pj" ]; then
    echo "build.sh: no kit '$kit' (kits: ${available[*]})" >&2; status=2; continue
  fi
  name=$(json_field "$pj" name)
  version=$(json_field "$pj" version)
  if [ "$name" != "@datakit/kit-$kit" ]; then
    echo "build.sh: $pj is named '$name', expected '@datakit/kit-$kit'" >&2; status=2; continue
  fi
  [ -n "$version" ] || { echo "build.sh: $pj has no version" >&2; status=2; continue; }
  image="${prefix}etl/${kit}-extractor"
  tags=(-t "$image:$version")
  [ $latest = 1 ] && tags+=(-t "$image:latest")

  echo "== build $image:$version (kit $kit, base $NODE_IMAGE, revision $REVISION)" >&2
  log="$logdir/$kit.log"
  t0=$(date +%s.%N)
  args=(build --network host -f docker/Dockerfile "${nocache[@]}" "${tags[@]}"
        --progress=plain
        --build-arg "KIT=$kit" --build-arg "VERSION=$version" --build-arg "REVISION=$REVISION"
        --build-arg "CREATED=$CREATED" --build-arg "SOURCE=$SOURCE_URL" --build-arg "NODE_IMAGE=$NODE_IMAGE"
        .)
  set +e
  if [ $verbose = 1 ]; then
    "$DOCKER" "${args[@]}" 2>&1 | tee "$log" >&2
  else
    "$DOCKER" "${args[@]}" >"$log" 2>&1
  fi
  rc=$?
  set -e
  secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
  if [ "$rc" != 0 ]; then
    tail -n 80 "$log" >&2
    echo "== FAILED: $image:$version (exit $rc after ${secs}s)" >&2
    status=1; continue
  fi
  size=$("$DOCKER" image inspect -f '{{.Size}}' "$image:$version")
  extra=$(( size - base_size ))
  line="$image:$version  size $(mb "$size") MB  (+$(mb "$extra") MB over $NODE_IMAGE at $(mb "$base_size") MB)  built in ${secs}s"
  if [ -n "$max_extra" ] && [ "$extra" -gt $(( max_extra * 1000000 )) ]; then
    echo "== FAILED: $line: more than ${max_extra} MB above the base" >&2; status=1
  elif [ "$extra" -gt 60000000 ]; then
    echo "== WARNING: $line: more than the 60 MB target above the base" >&2
  else
    echo "== built $line" >&2
  fi
  summary+=("$line")
  [ -n "${BUILD_SUMMARY:-}" ] && printf '%s\t%s\t%s\t%s\t%s\n' "$image" "$version" "$size" "$base_size" "$secs" >>"$BUILD_SUMMARY"

  if [ $push = 1 ]; then
    [ -n "$prefix" ] || echo "build.sh: --push without REGISTRY pushes to Docker Hub's etl/ namespace" >&2
    "$DOCKER" push "$image:$version" >&2 || status=1
    [ $latest = 1 ] && { "$DOCKER" push "$image:latest" >&2 || status=1; }
  fi
done

if [ ${#summary[@]} -gt 0 ]; then
  printf '%s\n' "${summary[@]}"
fi
exit $status
