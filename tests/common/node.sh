#!/usr/bin/env bash
# node and npm for the tests that run a real TypeScript toolchain (tests/worktree_setup.rs),
# installed with apt-get (through sudo when not root) when missing — the same step as
# tests/agent-clis.sh's, without the agent CLIs. Prints the node and npm versions on stderr.
set -euo pipefail
need=()
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  echo "tests/common/node.sh: installing ${need[*]} (apt-get)" >&2
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "tests/common/node.sh: need ${need[*]}; install them (no root, no sudo)" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
echo "node $(node --version), npm $(npm --version)" >&2
