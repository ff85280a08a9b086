#!/usr/bin/env bash
# npm run stack / npm run stack:down. From a fresh clone: installs what is missing (scripts/install-deps.sh),
# builds the receiver, then starts the stack detached (scripts/stack/up.ts) or stops it (scripts/stack/down.ts).
set -euo pipefail
cd "$(dirname "$0")/../.."
cmd="${1:-up}"; shift || true
case "$cmd" in
  up)
    missing=()
    for bin in prometheus prometheus-alertmanager prometheus-node-exporter; do command -v "$bin" >/dev/null || missing+=("$bin"); done
    [ -x /bin/busybox ] || missing+=(busybox)
    case " $* " in *" --private-docker "*) command -v dockerd >/dev/null || missing+=(dockerd) ;; esac
    [ -d node_modules ] || missing+=(node_modules)
    if [ ${#missing[@]} -gt 0 ]; then
      echo "installing what is missing (${missing[*]}): scripts/install-deps.sh"
      bash scripts/install-deps.sh
    fi
    if [ "${AI_DISPATCHER_STACK_SKIP_BUILD:-}" != 1 ]; then
      echo "building the receiver (npm run build)"
      npm run --silent build
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
