#!/usr/bin/env bash
# npm run stack / npm run stack:down. From a fresh clone: installs what the stack needs and is missing
# (scripts/install-deps.sh stack), then scripts/stack/up.ts refuses if a stack already runs, builds the receiver and
# starts the stack detached; scripts/stack/down.ts stops it.
set -euo pipefail
cd "$(dirname "$0")/../.."
cmd="${1:-up}"; shift || true
case "$cmd" in
  up)
    missing=()
    for bin in prometheus prometheus-alertmanager prometheus-node-exporter; do command -v "$bin" >/dev/null || missing+=("$bin"); done
    [ -x /bin/busybox ] || missing+=(busybox)
    deps=(stack)
    case " $* " in *" --private-docker "*) deps+=(--private-docker); command -v dockerd >/dev/null || missing+=(dockerd) ;; esac
    [ -d node_modules ] || missing+=(node_modules)
    if [ ${#missing[@]} -gt 0 ]; then
      echo "missing: ${missing[*]}; installing them (scripts/install-deps.sh ${deps[*]})"
      bash scripts/install-deps.sh "${deps[@]}"
    fi
    exec node --import tsx scripts/stack/up.ts "$@"
    ;;
  down)
    exec node --import tsx scripts/stack/down.ts "$@"
    ;;
  *)
    echo "usage: scripts/stack/stack.sh up|down [options]" >&2
    exit 2
    ;;
esac
