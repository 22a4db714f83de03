#!/usr/bin/env bash
# The five real agent CLIs that brl's presets drive, installed for the tests into a cache under the
# cargo target dir (never globally): Claude Code, Codex, Gemini CLI and opencode from npm (each with
# `npm install --prefix` into its own folder), aider from PyPI (into a venv). Versions are pinned so
# the captured outputs under tests/fixtures/agents/ stay true; a CLI already installed at its pinned
# version is not installed again, so reruns take a second.
#
# Usage: bash tests/agent-clis.sh [CACHE_DIR]   (default: <cargo target dir>/agent-clis)
# Prints one `name=path` line per CLI on stdout (claude, codex, gemini, opencode, aider, and
# opencode-config: the plugin dir opencode wants in ~/.config/opencode); progress
# and versions go to stderr. Installs node/npm and python3-venv with apt-get when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

CLAUDE_VERSION=2.1.197
CODEX_VERSION=0.171.0
GEMINI_VERSION=0.61.0
OPENCODE_VERSION=1.18.33
AIDER_VERSION=0.86.2

say() { printf '[agent-clis] %s\n' "$*" >&2; }
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else
    command -v sudo >/dev/null 2>&1 || { echo "tests/agent-clis.sh: need root or sudo to install: $*" >&2; exit 1; }
    sudo "$@"
  fi
}

# ---------------------------------------------------------------- node, npm, python venv
need=()
command -v node >/dev/null 2>&1 || need+=(nodejs)
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if ! python3 -m venv --help >/dev/null 2>&1; then need+=(python3-venv); fi
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]} (apt-get)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ $# -ge 1 ]; then
  CACHE="$1"
else
  if [ -n "${CARGO_TARGET_DIR:-}" ]; then TARGET="$CARGO_TARGET_DIR"; else TARGET="$(pwd)/target"; fi
  CACHE="$TARGET/agent-clis"
fi
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)

# No update checks, telemetry or audits while installing.
export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
export PIP_DISABLE_PIP_VERSION_CHECK=1

# npm_cli NAME PACKAGE VERSION BIN: install PACKAGE@VERSION into $CACHE/NAME unless there already.
npm_cli() {
  local name=$1 pkg=$2 version=$3 bin=$4 dir="$CACHE/$1"
  local stamp="$dir/.installed-$version"
  if [ ! -f "$stamp" ] || [ ! -x "$dir/node_modules/.bin/$bin" ]; then
    say "installing $pkg@$version into $dir (npm)"
    rm -rf "$dir"
    mkdir -p "$dir"
    npm install --prefix "$dir" --no-save --loglevel=error "$pkg@$version" >&2
    [ -x "$dir/node_modules/.bin/$bin" ] || { echo "tests/agent-clis.sh: $pkg@$version installed no $bin" >&2; exit 1; }
    touch "$stamp"
  fi
  echo "$name=$dir/node_modules/.bin/$bin"
}

# opencode installs its plugin package from npm into its global config dir (~/.config/opencode)
# at start when it is missing there; installed here once, a test copies it into the CLI's HOME so
# opencode runs offline. Printed as `opencode-config=<dir>`.
opencode_config() {
  local dir="$CACHE/opencode-config" stamp="$CACHE/opencode-config/.installed-$OPENCODE_VERSION"
  if [ ! -f "$stamp" ] || [ ! -d "$dir/node_modules/@opencode-ai/plugin" ]; then
    say "installing @opencode-ai/plugin@$OPENCODE_VERSION into $dir (npm, opencode's config dir)"
    rm -rf "$dir"
    mkdir -p "$dir"
    npm install --prefix "$dir" --save-exact --loglevel=error "@opencode-ai/plugin@$OPENCODE_VERSION" >&2
    touch "$stamp"
  fi
  echo "opencode-config=$dir"
}

aider_cli() {
  local dir="$CACHE/aider" stamp="$CACHE/aider/.installed-$AIDER_VERSION"
  if [ ! -f "$stamp" ] || [ ! -x "$dir/bin/aider" ]; then
    say "installing aider-chat==$AIDER_VERSION into $dir (pip, venv)"
    rm -rf "$dir"
    python3 -m venv "$dir"
    "$dir/bin/python" -m pip install -q --upgrade pip >&2
    "$dir/bin/python" -m pip install -q "aider-chat==$AIDER_VERSION" >&2
    [ -x "$dir/bin/aider" ] || { echo "tests/agent-clis.sh: aider-chat installed no aider" >&2; exit 1; }
    touch "$stamp"
  fi
  echo "aider=$dir/bin/aider"
}

out=()
out+=("$(npm_cli claude @anthropic-ai/claude-code "$CLAUDE_VERSION" claude)")
out+=("$(npm_cli codex @openai/codex "$CODEX_VERSION" codex)")
out+=("$(npm_cli gemini @google/gemini-cli "$GEMINI_VERSION" gemini)")
out+=("$(npm_cli opencode opencode-ai "$OPENCODE_VERSION" opencode)")
out+=("$(opencode_config)")
out+=("$(aider_cli)")

say "versions: claude $CLAUDE_VERSION, codex $CODEX_VERSION, gemini $GEMINI_VERSION, opencode $OPENCODE_VERSION, aider $AIDER_VERSION (cache $CACHE)"
printf '%s\n' "${out[@]}"
