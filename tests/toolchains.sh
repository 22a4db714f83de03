#!/usr/bin/env bash
# The real check tools that brl's check parsers read, installed for the tests into a cache under the
# cargo target dir (never globally): TypeScript (`tsc`) and vitest from npm into one package dir,
# pytest and mypy from PyPI into a venv. Versions are pinned so the outputs recorded under
# tests/fixtures/checks/ stay true; a cache already at its pinned versions is only checked (no
# network), so a rerun takes well under two seconds. Cargo is expected to be there already.
#
# Usage: bash tests/toolchains.sh [--print-path] [CACHE_DIR]  (default: <cargo target dir>/toolchains)
#   stdout, default:      one line `export PATH="[<node runtime>:]<tools bin>:<venv bin>:$PATH"`,
#                         for `eval "$(bash tests/toolchains.sh)"`
#   stdout, --print-path: only `[<node runtime>:]<tools bin>:<venv bin>`, to put in front of PATH
#   <tools bin> is <cache>/node/node_modules/.bin (tsc, vitest), <venv bin> is <cache>/py/bin
#   (python, pytest, mypy); <node runtime> is there only when this script had to install node.
# Progress and versions go to stderr. Installs node/npm and python3-venv with apt-get when missing.
# Runs of the script wait for each other (flock on <cache>.lock), so parallel tests may all call it.
set -euo pipefail
cd "$(dirname "$0")/.."

TYPESCRIPT_VERSION=7.0.2
VITEST_VERSION=4.1.12  # vitest 5 needs node >= 21 (Map.groupBy); 4.x runs on node 20
NODE_VERSION=22.23.5  # only installed (from npm) when the machine's node is missing or older than 20
PYTEST_VERSION=9.2.0
MYPY_VERSION=2.4.1

say() { printf '[toolchains] %s\n' "$*" >&2; }
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else
    command -v sudo >/dev/null 2>&1 || { echo "tests/toolchains.sh: need root or sudo to install: $*" >&2; exit 1; }
    sudo "$@"
  fi
}

print_path=false
if [ "${1:-}" = "--print-path" ]; then print_path=true; shift; fi
if [ $# -ge 1 ]; then
  CACHE="$1"
else
  if [ -n "${CARGO_TARGET_DIR:-}" ]; then TARGET="$CARGO_TARGET_DIR"; else TARGET="$(pwd)/target"; fi
  CACHE="$TARGET/toolchains"
fi
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
NODE_DIR="$CACHE/node"
PY_DIR="$CACHE/py"
NODE_STAMP="$NODE_DIR/.installed-typescript-$TYPESCRIPT_VERSION-vitest-$VITEST_VERSION"
PY_STAMP="$PY_DIR/.installed-pytest-$PYTEST_VERSION-mypy-$MYPY_VERSION"
case "$(uname -m)" in
  x86_64) NODE_ARCH=x64 ;;
  aarch64 | arm64) NODE_ARCH=arm64 ;;
  *) NODE_ARCH="$(uname -m)" ;;
esac
RUNTIME_DIR="$CACHE/nodejs"
RUNTIME_BIN="$RUNTIME_DIR/node_modules/node-linux-$NODE_ARCH/bin"
RUNTIME_STAMP="$RUNTIME_DIR/.installed-$NODE_VERSION"

# vitest 4 and TypeScript 7 want node >= 20; Debian 12's own nodejs is 18. A node installed here
# earlier (from npm's node-linux-<arch> package, which ships the binary) is always preferred.
own_node_ready() { [ -f "$RUNTIME_STAMP" ] && [ -x "$RUNTIME_BIN/node" ]; }
system_node_ok() {
  local v
  v=$(node --version 2>/dev/null) || return 1
  v=${v#v}
  [ "${v%%.*}" -ge 20 ] 2>/dev/null
}
node_ok() { own_node_ready || system_node_ok; }
node_ready() {
  [ -f "$NODE_STAMP" ] && [ -x "$NODE_DIR/node_modules/.bin/tsc" ] && [ -x "$NODE_DIR/node_modules/.bin/vitest" ]
}
py_ready() {
  [ -f "$PY_STAMP" ] && [ -x "$PY_DIR/bin/pytest" ] && [ -x "$PY_DIR/bin/mypy" ] && [ -x "$PY_DIR/bin/python" ]
}

# Warm cache: nothing to lock, install or look up.
if ! { node_ok && node_ready && py_ready; }; then
  exec 9>"$CACHE.lock"
  flock 9 # another run may be installing: wait for it, then look again

  # ------------------------------------------------------------ node, npm, python venv
  need=()
  command -v node >/dev/null 2>&1 || need+=(nodejs)
  command -v npm >/dev/null 2>&1 || need+=(npm)
  command -v python3 >/dev/null 2>&1 || need+=(python3)
  if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' >/dev/null 2>&1; then
    need+=(python3-venv)
  fi
  if [ ${#need[@]} -gt 0 ]; then
    say "installing ${need[*]} (apt-get)"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
  fi

  # No update checks, telemetry or audits while installing.
  export npm_config_update_notifier=false npm_config_fund=false npm_config_audit=false
  export PIP_DISABLE_PIP_VERSION_CHECK=1

  if ! node_ok; then
    say "node >= 20 is missing (have: $(node --version 2>/dev/null || echo none)); installing node-linux-$NODE_ARCH@$NODE_VERSION into $RUNTIME_DIR (npm)"
    rm -rf "$RUNTIME_DIR"
    mkdir -p "$RUNTIME_DIR"
    npm install --prefix "$RUNTIME_DIR" --no-save --loglevel=error "node-linux-$NODE_ARCH@$NODE_VERSION" >&2
    [ -x "$RUNTIME_BIN/node" ] || { echo "tests/toolchains.sh: node-linux-$NODE_ARCH@$NODE_VERSION installed no $RUNTIME_BIN/node" >&2; exit 1; }
    touch "$RUNTIME_STAMP"
  fi
  if own_node_ready; then export PATH="$RUNTIME_BIN:$PATH"; fi

  if ! node_ready; then
    say "installing typescript@$TYPESCRIPT_VERSION and vitest@$VITEST_VERSION into $NODE_DIR (npm)"
    rm -rf "$NODE_DIR"
    mkdir -p "$NODE_DIR"
    printf '{ "name": "brl-test-toolchains", "private": true }\n' >"$NODE_DIR/package.json"
    npm install --prefix "$NODE_DIR" --save-exact --loglevel=error \
      "typescript@$TYPESCRIPT_VERSION" "vitest@$VITEST_VERSION" >&2
    for bin in tsc vitest; do
      [ -x "$NODE_DIR/node_modules/.bin/$bin" ] || { echo "tests/toolchains.sh: npm installed no $bin into $NODE_DIR" >&2; exit 1; }
    done
    touch "$NODE_STAMP"
  fi

  if ! py_ready; then
    say "installing pytest==$PYTEST_VERSION and mypy==$MYPY_VERSION into $PY_DIR (pip, venv)"
    rm -rf "$PY_DIR"
    python3 -m venv "$PY_DIR"
    "$PY_DIR/bin/python" -m pip install -q "pytest==$PYTEST_VERSION" "mypy==$MYPY_VERSION" >&2
    for bin in pytest mypy; do
      [ -x "$PY_DIR/bin/$bin" ] || { echo "tests/toolchains.sh: pip installed no $bin into $PY_DIR" >&2; exit 1; }
    done
    touch "$PY_STAMP"
  fi
  say "versions: node $(node --version), typescript $TYPESCRIPT_VERSION, vitest $VITEST_VERSION, pytest $PYTEST_VERSION, mypy $MYPY_VERSION (cache $CACHE)"
fi

entries="$NODE_DIR/node_modules/.bin:$PY_DIR/bin"
if own_node_ready; then entries="$RUNTIME_BIN:$entries"; fi
if $print_path; then
  echo "$entries"
else
  echo "export PATH=\"$entries:\$PATH\""
fi
