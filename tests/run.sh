#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need (git, tmux, bubblewrap via
# tests/deps.sh; the agent CLIs and the checks' toolchains into target/ on first use) when missing,
# then runs every test. Usage: bash tests/run.sh [extra cargo test args]
set -euo pipefail
cd "$(dirname "$0")/.."

bash tests/deps.sh

log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
cargo test --locked --no-fail-fast "$@" 2>&1 | tee "$log" || status=$?
# brl under a real PM2 (installed into target/ when missing); counted as one test. Skipped only
# when the run is narrowed with cargo test arguments.
pm2_passed=0
pm2_failed=0
if [ $# -eq 0 ]; then
  if bash tests/pm2.sh; then pm2_passed=1; else pm2_failed=1; status=1; fi
else
  echo "tests/run.sh: cargo test arguments given; not running tests/pm2.sh"
fi
# One closing line over every test binary (cargo prints one `test result:` line per binary).
awk -v pp="$pm2_passed" -v pf="$pm2_failed" \
  '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;?$/) p += $(i-1); if ($(i) ~ /^failed;?$/) f += $(i-1) } }
     END { printf "all tests: %d passed, %d failed\n", p + pp, f + pf }' "$log"
exit "$status"
