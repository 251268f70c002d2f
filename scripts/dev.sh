#!/usr/bin/env bash
# One entry point for a fresh machine: makes sure Node >= 22 (installs Node 24 from the npm registry
# into .tools/ when the machine's node is older) and pnpm 10 are there, installs the workspace, then
# runs a root script: `scripts/dev.sh demo`, `scripts/dev.sh test`, `scripts/dev.sh bench`.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }

if [ -x "$ROOT/.tools/node24/node_modules/.bin/node" ]; then
  export PATH="$ROOT/.tools/node24/node_modules/.bin:$PATH"
fi
if [ "$(node_major)" -lt 22 ]; then
  echo "== node $(node --version 2>/dev/null || echo none) is older than 22: installing Node 24 into .tools/node24" >&2
  npm install --silent --no-audit --no-fund --prefix "$ROOT/.tools/node24" node@24 >&2
  export PATH="$ROOT/.tools/node24/node_modules/.bin:$PATH"
fi
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version | cut -d. -f1)" != 10 ]; then
  echo "== installing pnpm 10" >&2
  npm install -g --silent pnpm@10 >&2   # corepack's signature check fails against some registry mirrors
  # npm's global prefix follows the node it runs on: with Node 24 from .tools first on PATH, that is
  # .tools/node24/node_modules/node, whose bin/ is not on PATH yet
  export PATH="$(npm prefix -g)/bin:$PATH"
fi
echo "== node $(node --version), pnpm $(pnpm --version)" >&2

# tests and benchmarks start real PostgreSQL servers from Debian's packages
case "${1:-test}" in
  test|bench)
    if { ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 || ! command -v kcat >/dev/null || [ ! -x /usr/sbin/sshd ]; } && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      echo "== installing postgresql-15, kcat and openssh-server (servers for the integration tests)" >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq && apt-get install -y -qq --no-install-recommends postgresql-15 kcat openssh-server >/dev/null
    fi ;;
esac

if [ "${CI:-}" = true ]; then
  pnpm install --frozen-lockfile
else
  pnpm install --prefer-offline
fi
[ $# -gt 0 ] || set -- test
exec pnpm run "$@"
