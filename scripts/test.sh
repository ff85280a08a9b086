#!/usr/bin/env bash
# The project's one test command (README, .ci/run): type check, lint, unused exports, promtool on the rules
# bundle, then jest (both projects: unit and live; `npm run test:unit` runs the unit one alone).
# Live tests start their own Prometheus, Alertmanager and dockerd; scripts/install-deps.sh installs them.
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== typecheck"
npx tsc -p tsconfig.json --noEmit

echo "== eslint"
npx eslint .

echo "== knip (unused files, exports, dependencies)"
npx knip

echo "== promtool check rules"
promtool check rules rules/*.yml

echo "== promtool test rules"
promtool test rules test/rules/*.test.yml

echo "== jest"
results=$(mktemp)
trap 'rm -f "$results"' EXIT
status=0
npx jest --ci --json --outputFile="$results" "$@" || status=$?
# One plain closing line that any CI reader understands.
node -e '
  const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`jest: ${r.numPassedTests} passed, ${r.numFailedTests} failed, ${r.numPendingTests} skipped`);
' "$results" || true
exit "$status"
