#!/usr/bin/env bash
# The project's one test command (README, .ci/run): type check, promtool on the rules bundle, then jest.
# Live tests start their own Prometheus, Alertmanager and dockerd; scripts/install-deps.sh installs them.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== typecheck"
npx tsc -p tsconfig.json --noEmit

echo "== promtool check rules"
promtool check rules rules/*.yml

echo "== promtool test rules"
promtool test rules test/rules/*.test.yml

echo "== jest"
npx jest --ci "$@"
