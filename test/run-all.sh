#!/usr/bin/env bash
# The whole offline test suite — unit, daemon, distributed, SSH, webview and VS Code — in ONE node test run, so that one summary
# covers every suite. Suites whose system part is missing (chromium, the offline VS Code server) skip
# themselves with a message naming what to install. Builds dist/ and packages manta.vsix first. Usage: npm test [-- file ...]
set -uo pipefail
cd "$(dirname "$0")/.."
npm run --silent build || { echo "build failed"; exit 1; }
mkdir -p test-artifacts
# The installable extension, as CI ships it: manta.vsix (production bundles, built apart from dist/); the packaging
# test checks its contents and the VS Code suite installs it into the VS Code server.
npm run --silent package >test-artifacts/package.log 2>&1 || { cat test-artifacts/package.log; echo "packaging failed"; exit 1; }
tail -1 test-artifacts/package.log
if [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(find test/unit test/daemon test/distributed test/ssh test/webview test/vscode -name '*.test.ts' 2>/dev/null | sort)
fi
mkdir -p test-artifacts
tap=test-artifacts/results.tap
# Files run one at a time: the machine has 2 cores and several suites train networks or drive a browser.
node --import tsx --test --test-concurrency=1 --test-timeout=900000 \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter=tap --test-reporter-destination="$tap" \
  "${files[@]}"
status=$?
pass=$(grep -E '^# pass ' "$tap" | tail -1 | awk '{print $3}')
fail=$(grep -E '^# fail ' "$tap" | tail -1 | awk '{print $3}')
skipped=$(grep -E '^# skipped ' "$tap" | tail -1 | awk '{print $3}')
# A file that times out or dies is "cancelled" in node's count: it failed.
cancelled=$(grep -E '^# cancelled ' "$tap" | tail -1 | awk '{print $3}')
fail=$(( ${fail:-0} + ${cancelled:-0} ))
echo
echo "Summary: ${pass:-0} passed, ${fail:-0} failed, ${skipped:-0} skipped"
exit $status
