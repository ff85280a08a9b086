#!/usr/bin/env bash
# Installs what the tests and the local stack need from Debian's packages, then the npm packages.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
command -v prometheus >/dev/null || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)
command -v prometheus-node-exporter >/dev/null || need+=(prometheus-node-exporter)
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -x httpd >/dev/null || need+=(busybox-static) # not grep -q: busybox would die of SIGPIPE and pipefail fail the check
command -v dockerd >/dev/null || need+=(docker.io)
command -v wrk >/dev/null || need+=(wrk) # the closed-loop client of scripts/bench/receiver-throughput.ts
if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages: ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
fi
[ -d node_modules ] || npm ci --no-audit --no-fund
