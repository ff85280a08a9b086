#!/usr/bin/env bash
# Installs what a command needs from Debian's packages, and only that, then the npm packages:
#
#   scripts/install-deps.sh stack [--private-docker]   what `npm run stack` runs (dockerd only with --private-docker)
#   scripts/install-deps.sh all                         what the tests and the benchmarks run (.ci/run); the default
#
# Debian's prometheus, prometheus-alertmanager, prometheus-node-exporter and docker.io packages come with system
# services that start at once and at every boot (ports 9090, 9093, 9100; dockerd). ai-dispatcher runs its own
# processes, so the packages are installed with service starts denied (policy-rc.d, when none is in place), and
# every systemd unit the install enabled is disabled and stopped again; units enabled before stay as they were.
set -euo pipefail
cd "$(dirname "$0")/.."

what="${1:-all}"
private_docker=false
case " $* " in *" --private-docker "*) private_docker=true ;; esac

declare -A why=(
  [prometheus]="evaluates the rules (rules/*.yml) and sends the alerts"
  [prometheus-alertmanager]="routes the lifecycle alerts to the receiver"
  [prometheus-node-exporter]="the host metrics the model recommendation reads"
  [busybox-static]="the web server of the stand-in Ollama container"
  [docker.io]="dockerd: a private Docker engine (npm run stack -- --private-docker, the tests)"
  [wrk]="the load generator of scripts/bench/receiver-throughput.ts (benchmarks)"
  [nginx-light]="the reverse-proxy floor of scripts/bench/gateway-bench.ts (benchmarks)"
  [chromium]="headless browser that opens the HTML report in its test (test/report)"
)

need=()
command -v prometheus >/dev/null || need+=(prometheus)
command -v prometheus-alertmanager >/dev/null || need+=(prometheus-alertmanager)
command -v prometheus-node-exporter >/dev/null || need+=(prometheus-node-exporter)
[ -x /bin/busybox ] && /bin/busybox --list 2>/dev/null | grep -x httpd >/dev/null || need+=(busybox-static) # not grep -q: busybox would die of SIGPIPE and pipefail fail the check
case "$what" in
  stack)
    purpose="npm run stack"
    if $private_docker; then command -v dockerd >/dev/null || need+=(docker.io); fi
    ;;
  all)
    purpose="the tests and the benchmarks"
    command -v dockerd >/dev/null || need+=(docker.io)
    command -v wrk >/dev/null || need+=(wrk)
    command -v nginx >/dev/null || need+=(nginx-light)
    command -v chromium >/dev/null || need+=(chromium)
    ;;
  *)
    echo "usage: scripts/install-deps.sh [stack [--private-docker] | all]" >&2
    exit 2
    ;;
esac

enabled_units() {
  systemctl list-unit-files --state=enabled --no-legend 2>/dev/null | awk '{print $1}' | sort -u
}

if [ ${#need[@]} -gt 0 ]; then
  echo "installing Debian packages for $purpose:"
  for p in "${need[@]}"; do printf '  %-26s %s\n' "$p" "${why[$p]}"; done
  has_systemctl=false
  command -v systemctl >/dev/null && has_systemctl=true
  before=""
  if $has_systemctl; then before="$(enabled_units)"; fi
  # Tests point this elsewhere; on a host it is Debian's hook that invoke-rc.d and deb-systemd-invoke ask.
  policy="${AI_DISPATCHER_POLICY_RC_D:-/usr/sbin/policy-rc.d}"
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# written by ai-dispatcher scripts/install-deps.sh for the time of its install: no service starts\nexit 101\n' >"$policy"
    chmod 0755 "$policy"
    trap 'rm -f "$policy"' EXIT
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}"
  if $has_systemctl; then
    for unit in $(comm -13 <(printf '%s\n' "$before") <(enabled_units)); do
      # --now also stops it; without a running systemd (a container) only the enablement is undone.
      if systemctl disable --now "$unit" >/dev/null 2>&1 || systemctl disable "$unit" >/dev/null 2>&1; then
        echo "  disabled the system service $unit that the install enabled (ai-dispatcher starts its own processes)"
      else
        echo "  could not disable $unit, which the install enabled: systemctl disable --now $unit" >&2
      fi
    done
  fi
fi
[ -d node_modules ] || npm ci --no-audit --no-fund
