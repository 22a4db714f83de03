#!/usr/bin/env bash
# brl under real PM2, end to end: `brl init --pm2` writes the ecosystem file of a demo home,
# `pm2 start` runs the control room (`brl up --no-tui`), and `pm2 restart` (during a cycle),
# `pm2 stop`, `pm2 start` and `brl down` behave as the README says: the workers keep running in
# tmux across PM2 stops and restarts, the panes are adopted and never duplicated, a cycle in flight
# is logged exactly once, no branch is lost or orphaned, and `brl down` stops everything without
# PM2 restarting it.
#
# Usage: bash tests/pm2.sh   (from any directory; KEEP=1 keeps the temp dir for inspection)
#
# Installs what it needs when missing: git, tmux, node and npm (apt-get), pm2 (npm, into a cache
# under the cargo target dir, so reruns are fast). Everything it starts is private and is stopped at
# exit: its own PM2 daemon (PM2_HOME in a temp dir; your own PM2 is never touched), the demo
# home's control room and workers (`brl down`), and the tmux server on its own socket.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
PM2_MAJOR=6

say() { printf '[pm2 test %3ds] %s\n' "$SECONDS" "$*"; }
STEP_START=$SECONDS
TIMINGS=()
timing() { TIMINGS+=("$(printf '%-44s %3ds' "$1" $((SECONDS - STEP_START)))"); STEP_START=$SECONDS; }

# ---------------------------------------------------------------- what the test needs
as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else
    command -v sudo >/dev/null 2>&1 || { echo "tests/pm2.sh: need root or sudo to install: $*" >&2; exit 1; }
    sudo "$@"
  fi
}
need=()
command -v git >/dev/null 2>&1 || need+=(git)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v node >/dev/null 2>&1 || need+=(nodejs)
# npm is only needed to install pm2: not when pm2 is on PATH.
command -v pm2 >/dev/null 2>&1 || command -v npm >/dev/null 2>&1 || need+=(npm)
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]} (apt-get)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
command -v cargo >/dev/null 2>&1 || { echo "tests/pm2.sh: cargo is missing; install Rust (https://rustup.rs) first" >&2; exit 1; }

# The debug build: it is what `cargo test` (tests/run.sh) already built, so this is a no-op or a
# few seconds there, while a release build from cold takes minutes; what is tested here (signals,
# locks, tmux, PM2's handling of the process) does not depend on optimisation.
say "building brl (cargo build --locked, debug)"
cargo build --locked --quiet --bin brl
TARGET=$(cargo metadata --no-deps --format-version 1 --locked \
  | node -e 'process.stdout.write(JSON.parse(require("fs").readFileSync(0, "utf8")).target_directory)')
BRL="$TARGET/debug/brl"
[ -x "$BRL" ] || { echo "tests/pm2.sh: no binary at $BRL after the build" >&2; exit 1; }
timing "build"

CACHE="$TARGET/pm2-cache"
if command -v pm2 >/dev/null 2>&1; then
  PM2=$(command -v pm2)
elif [ -x "$CACHE/node_modules/.bin/pm2" ]; then
  PM2="$CACHE/node_modules/.bin/pm2"
else
  say "installing pm2@$PM2_MAJOR into $CACHE (npm)"
  mkdir -p "$CACHE"
  npm install --prefix "$CACHE" --no-audit --no-fund --loglevel=error "pm2@$PM2_MAJOR" >/dev/null
  PM2="$CACHE/node_modules/.bin/pm2"
fi
timing "find or install pm2"

# ---------------------------------------------------------------- private state, cleanup
WORK=$(mktemp -d "${TMPDIR:-/tmp}/brl-pm2.XXXXXX")
# Before ANY pm2 command (even --version starts a daemon): a PM2 of our own.
export PM2_HOME="$WORK/pm2"
unset BRL_HOME BRL_SESSIONS
SOCKET="brl-pm2-$$"
BH="$WORK/demo/home"
REPO="$WORK/demo/app"
APP=""
ECO="$BH/ecosystem.config.js"
CLI_LOG="$WORK/pm2-cli.log"
# (The version from its package.json: `pm2 --version` would start a daemon.)
PM2_VERSION=$(node -p 'const p = require("path"), f = require("fs").realpathSync(process.argv[1]);
  require(p.join(p.dirname(f), "..", "package.json")).version' "$PM2" 2>/dev/null || echo "?")
say "pm2 $PM2_VERSION at $PM2; PM2_HOME=$PM2_HOME; tmux socket $SOCKET"

pm2q() { "$PM2" "$@" >>"$CLI_LOG" 2>&1; }
brl() { "$BRL" --home "$BH" "$@"; }

dump() {
  echo "---------------- diagnostics (work dir $WORK)"
  echo "--- brl status"; brl status 2>&1 || true
  echo "--- pm2 ls"; "$PM2" ls --no-color 2>&1 || true
  echo "--- pm2 CLI output (tail)"; tail -n 40 "$CLI_LOG" 2>/dev/null || true
  echo "--- PM2 daemon log (tail)"; tail -n 40 "$PM2_HOME/pm2.log" 2>/dev/null || true
  echo "--- $BH/logs/pm2-out.log (tail)"; tail -n 30 "$BH/logs/pm2-out.log" 2>/dev/null || true
  echo "--- $BH/logs/pm2-error.log (tail)"; tail -n 30 "$BH/logs/pm2-error.log" 2>/dev/null || true
  echo "--- experiment log (tail)"; tail -n 30 "$BH/logs/experiment-log.jsonl" 2>/dev/null || true
  echo "--- tmux panes on $SOCKET"
  tmux -L "$SOCKET" list-panes -a -F '#{pane_id} #{@brl_session} dead=#{pane_dead} pid=#{pane_pid}' 2>&1 || true
  echo "--- git branches"; git -C "$REPO" branch --list 'brl/*' 2>&1 || true
}

cleanup() {
  local status=$?
  set +e
  [ "$status" -ne 0 ] && dump
  # Only what this script started: its PM2 daemon, its home's workers, its tmux server.
  if [ -e "$PM2_HOME/pm2.pid" ] || [ -S "$PM2_HOME/rpc.sock" ]; then "$PM2" kill >>"$CLI_LOG" 2>&1; fi
  [ -f "$BH/brl.toml" ] && brl down --wait-secs 20 >/dev/null 2>&1
  tmux -L "$SOCKET" kill-server >/dev/null 2>&1
  # tmux 3.3a leaves the socket file behind; remove this script's own.
  rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$SOCKET"
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fail() {
  echo "pm2 test: FAILED: $*" >&2
  exit 1
}

# wait_for SECS WHAT CODE: until CODE (evaluated each time) succeeds.
wait_for() {
  local secs=$1 what=$2 code=$3
  local end=$((SECONDS + secs))
  until eval "$code"; do
    [ "$SECONDS" -lt "$end" ] || fail "timed out after ${secs}s waiting for $what"
    sleep 0.3
  done
}

# ---------------------------------------------------------------- JSON, read with node
Q="$WORK/q.js"
cat >"$Q" <<'JS'
const fs = require("fs");
const [cmd, ...args] = process.argv.slice(2);
const read = (p) => { try { return fs.readFileSync(p, "utf8"); } catch { return ""; } };
const entries = (home) => read(home + "/logs/experiment-log.jsonl").split("\n")
  .flatMap((l) => { try { return [JSON.parse(l)]; } catch { return []; } });
const stdin = () => {
  const t = fs.readFileSync(0, "utf8");
  try { return JSON.parse(t); } catch { return JSON.parse(t.slice(t.search(/^[\[{]/m))); }
};
const out = (...cols) => console.log(cols.map((c) => (c === undefined || c === null ? "-" : c)).join("\t"));
switch (cmd) {
  case "cycles": // session, branch, outcome, ts
    for (const e of entries(args[0])) if (e.type === "ralph_cycle") out(e.session, e.data.branch, e.data.outcome, e.ts);
    break;
  case "entries": // ts, pid, panes_created, panes_adopted, panes_respawned of entries of a type
    for (const e of entries(args[0])) if (e.type === args[1])
      out(e.ts, e.data.pid, e.data.panes_created, e.data.panes_adopted, e.data.panes_respawned);
    break;
  case "status": { // `brl status --json`: control pid, then name alive state phase branch granted
    const s = stdin();
    out("control", s.control_room.pid);
    for (const x of s.sessions) out(x.name, x.alive, x.state, x.phase, x.branch, x.grant ? 1 : 0);
    break;
  }
  case "queue": for (const e of stdin()) out(e.branch, e.status); break;
  case "pm2": { // `pm2 jlist`: status, pid, restarts, unstable restarts of an app
    const a = stdin().find((p) => p.name === args[0]);
    if (a) out(a.pm2_env.status, a.pid, a.pm2_env.restart_time, a.pm2_env.unstable_restarts);
    else out("absent");
    break;
  }
  case "app": out(require(args[0]).apps[0].name); break;
  case "jsonlines": { // every non-empty line of a file is a JSON object; print how many
    const bad = []; let n = 0;
    for (const l of read(args[0]).split("\n")) {
      if (!l.trim()) continue;
      try { if (typeof JSON.parse(l) !== "object") throw 0; n++; } catch { bad.push(l); }
    }
    if (bad.length) { console.error("not JSON lines:\n" + bad.slice(0, 5).join("\n")); process.exit(1); }
    out(n);
    break;
  }
  default: console.error("q.js: unknown " + cmd); process.exit(2);
}
JS
q() { node "$Q" "$@"; }
status_rows() { brl status --json | q status; }
control_pid() { status_rows | awk -F'\t' '$1 == "control" { print $2 }'; }
cycle_count() { q cycles "$BH" | wc -l; }
started_count() { q entries "$BH" control_started | wc -l; }
pm2_field() { "$PM2" jlist 2>/dev/null | q pm2 "$APP" | cut -f "$1"; }
sessions_with_cycles() { q cycles "$BH" | cut -f1 | sort -u | tr '\n' ' '; }
all_sessions_cycled() { [ "$(sessions_with_cycles)" = "s1 s2 s3 " ]; }
workers_alive() { [ "$(status_rows | awk -F'\t' '$1 ~ /^s[0-9]/ && $2 == "true"' | wc -l)" -eq 3 ]; }
no_grant() { [ "$(status_rows | awk -F'\t' '$1 ~ /^s[0-9]/ && $6 == 1' | wc -l)" -eq 0 ]; }
pm2_log_count() { grep -c -- "$1" "$PM2_HOME/pm2.log" 2>/dev/null || true; }

# Each session has exactly one live tagged pane on our socket.
check_panes() {
  local got
  got=$(tmux -L "$SOCKET" list-panes -a -F '#{@brl_session} #{pane_dead}' 2>/dev/null | sort | tr '\n' ',')
  [ "$got" = "s1 0,s2 0,s3 0," ] || fail "$1: expected one live pane per session on $SOCKET, got: ${got:-none}"
}

# The n-th control_started entry (1-based) adopted every pane and created none.
check_adopted() {
  local row
  row=$(q entries "$BH" control_started | sed -n "${1}p")
  [ "$(cut -f3 <<<"$row")" = 0 ] && [ "$(cut -f4 <<<"$row")" = 3 ] ||
    fail "control_started #$1 should have panes_created 0, panes_adopted 3 (ts pid created adopted respawned: $row)"
}

# ---------------------------------------------------------------- a demo home for PM2
say "creating the demo repo and home in $WORK/demo"
"$BRL" demo --dir "$WORK/demo" --rounds 0 >/dev/null
[ -f "$BH/brl.toml" ] || fail "brl demo made no home at $BH"

# toml_set TABLE KEY VALUE: set KEY in [TABLE] of brl.toml (VALUE is TOML), editing the key or
# the table when they exist, appending the table when it does not — never a duplicate table.
toml_set() {
  awk -v table="$1" -v key="$2" -v val="$3" '
    function header(line,  h) { h = line; sub(/[ \t]*(#.*)?$/, "", h); return h }
    /^[ \t]*\[/ {
      if (intable && !done) { print key " = " val; done = 1 }
      intable = (header($0) == "[" table "]"); if (intable) seen = 1
    }
    intable && $0 ~ ("^[ \t]*" key "[ \t]*=") { if (!done) print key " = " val; done = 1; next }
    { print }
    END {
      if (!done) { if (!seen) printf "\n[%s]\n", table; print key " = " val }
    }' "$BH/brl.toml" >"$BH/brl.toml.new"
  mv "$BH/brl.toml.new" "$BH/brl.toml"
}
toml_set tmux socket "\"$SOCKET\""
toml_set tmux check_secs 1
toml_set server enabled false
toml_set scheduler interval_secs 2
# No review back-pressure: this test watches cycles resume after restarts, not the queue's cap.
toml_set review max_pending 0
# A slower agent, so that a cycle is surely in flight when PM2 restarts the control room: the
# demo agent after 3 s (the same command, prefixed with `sleep 3; exec`).
awk '/^[ \t]*\[/ { a = ($0 ~ /^\[agent\]/) }
     a && /^command[ \t]*=[ \t]*"/ { sub(/=[ \t]*"/, "= \"sleep 3; exec ") } { print }' \
  "$BH/brl.toml" >"$BH/brl.toml.new"
mv "$BH/brl.toml.new" "$BH/brl.toml"
for t in tmux server scheduler agent review; do
  [ "$(grep -c "^\[$t\]" "$BH/brl.toml")" = 1 ] || fail "brl.toml should have one [$t] table:
$(cat "$BH/brl.toml")"
done
grep -q '^command = "sleep 3; exec ' "$BH/brl.toml" || fail "the agent command was not wrapped"
brl status >/dev/null || fail "the edited brl.toml does not load"

# `init --pm2` on a home that exists: writes only what is missing, so brl.toml stays as it is.
sum_before=$(cksum <"$BH/brl.toml")
init_out=$(brl init --pm2) || fail "brl init --pm2 failed: $init_out"
[ "$(cksum <"$BH/brl.toml")" = "$sum_before" ] || fail "brl init --pm2 changed brl.toml"
grep -q "^wrote .*ecosystem.config.js" <<<"$init_out" || fail "init --pm2 did not write the ecosystem file: $init_out"
grep -q "^kept .*brl.toml" <<<"$init_out" || fail "init --pm2 did not say it kept brl.toml: $init_out"
APP=$(q app "$ECO") || fail "node cannot require $ECO"
[ "$APP" = brl-home ] || fail "app name $APP, expected brl-home"
node -e '
  const a = require(process.argv[1]).apps[0], [home, exe] = process.argv.slice(2);
  const want = { script: exe, cwd: home, interpreter: "none", autorestart: true,
    out_file: home + "/logs/pm2-out.log", error_file: home + "/logs/pm2-error.log" };
  for (const [k, v] of Object.entries(want)) if (a[k] !== v) throw new Error(k + ": " + a[k] + " != " + v);
  if (JSON.stringify(a.args) !== JSON.stringify(["--home", home, "up", "--no-tui"])) throw new Error("args " + a.args);
' "$ECO" "$BH" "$(readlink -f "$BRL")" || fail "the ecosystem file is not what it should be:
$(cat "$ECO")"
timing "demo home + init --pm2"

# ---------------------------------------------------------------- pm2 start
say "pm2 start $ECO"
pm2q start "$ECO" || fail "pm2 start failed"
wait_for 30 "the control room to start under PM2" '[ "$(started_count)" -ge 1 ]'
[ "$(pm2_field 1)" = online ] || fail "PM2 says $APP is $(pm2_field 1), not online"
# PM2 runs brl itself (interpreter none): the pid PM2 knows is the one holding the home's lock.
[ "$(pm2_field 2)" = "$(control_pid)" ] || fail "PM2's pid $(pm2_field 2) is not the control room's $(control_pid)"
row=$(q entries "$BH" control_started | head -n 1)
[ "$(cut -f3 <<<"$row")" = 3 ] || fail "the first control_started should have created 3 panes: $row"
wait_for 90 "cycles from s1, s2 and s3" all_sessions_cycled
check_panes "after pm2 start"
# PM2's own variables stay out of the workers (and so the agents) that the tmux server runs.
for lock in "$BH"/logs/locks/worker-*.lock; do
  wpid=$(cat "$lock")
  if tr '\0' '\n' <"/proc/$wpid/environ" | grep -Eq '^(PM2_HOME|pm_id)='; then
    fail "worker $wpid ($lock) inherited PM2's variables"
  fi
done
# One control room per home: a second one, outside PM2, refuses and names PM2's.
set +e
second=$(brl up --no-tui 2>&1 </dev/null)
code=$?
set -e
[ "$code" -ne 0 ] || fail "a second control room started next to PM2's"
grep -q "process $(pm2_field 2)" <<<"$second" || fail "the second control room did not name PM2's pid $(pm2_field 2): $second"
timing "pm2 start, cycles from all 3 sessions"

# ---------------------------------------------------------------- pm2 restart during a cycle
# Restart while some session is in its hack phase; the cycle must finish under the new control
# room and be logged once. If it happened to end before the old control room stopped, try again.
restart_in_flight() {
  local n=$1 row branch stopped logged
  wait_for 60 "a cycle in its hack phase" \
    'row=$(status_rows | awk -F"\t" "\$4 == \"hack\"" | head -n 1); [ -n "$row" ]'
  branch=$(cut -f5 <<<"$row")
  say "pm2 restart $APP while $(cut -f1 <<<"$row") runs $branch"
  local t=$SECONDS
  pm2q restart "$APP" || fail "pm2 restart failed"
  [ $((SECONDS - t)) -le 5 ] || fail "pm2 restart took $((SECONDS - t)) s"
  wait_for 30 "the restarted control room" '[ "$(started_count)" -ge "$n" ]'
  check_adopted "$n"
  check_panes "after pm2 restart"
  [ "$(pm2_field 1)" = online ] || fail "PM2 says $APP is $(pm2_field 1) after the restart"
  wait_for 60 "the in-flight cycle $branch to be logged" \
    '[ "$(q cycles "$BH" | awk -F"\t" -v b="$branch" "\$2 == b" | wc -l)" -ge 1 ]'
  stopped=$(q entries "$BH" control_stopped | tail -n 1 | cut -f1)
  logged=$(q cycles "$BH" | awk -F'\t' -v b="$branch" '$2 == b { print $4 }' | head -n 1)
  [[ "$logged" > "$stopped" ]]
}
n=2
for attempt in 1 2 3; do
  if restart_in_flight "$n"; then break; fi
  [ "$attempt" -lt 3 ] || fail "three restarts in a row missed the cycle in flight"
  say "that cycle ended before the control room stopped; again"
  n=$((n + 1))
done
restarts_so_far=$n
timing "pm2 restart during a cycle"

# ---------------------------------------------------------------- pm2 stop
say "pm2 stop $APP"
t=$SECONDS
pm2q stop "$APP" || fail "pm2 stop failed"
stop_secs=$((SECONDS - t))
[ "$stop_secs" -le 5 ] || fail "pm2 stop took ${stop_secs} s"
[ "$(pm2_field 1)" = stopped ] || fail "PM2 says $APP is $(pm2_field 1) after pm2 stop"
st=$(brl status); grep -q "^control room: not running" <<<"$st" || fail "brl status still sees a control room after pm2 stop"
workers_alive || fail "the workers should keep running after pm2 stop"
check_panes "after pm2 stop"
# Grants given before the stop are still served; nothing new is granted. (Grants first, then the
# count: a cycle finishing in between is counted on both sides, never on neither.)
grants=$(status_rows | awk -F'\t' '$1 ~ /^s[0-9]/ && $6 == 1' | wc -l)
c0=$(cycle_count)
wait_for 60 "the outstanding grants to be served" no_grant
c1=$(cycle_count)
[ $((c1 - c0)) -le "$grants" ] || fail "$((c1 - c0)) cycles after pm2 stop with $grants grants outstanding"
sleep 6
[ "$(cycle_count)" = "$c1" ] || fail "cycles were logged with no control room and no grant ($c1 → $(cycle_count))"
no_grant || fail "a grant appeared with no control room"
workers_alive || fail "the workers died while the control room was stopped"
timing "pm2 stop (workers idle, none granted)"

# ---------------------------------------------------------------- pm2 start again
say "pm2 start $APP"
pm2q start "$APP" || fail "pm2 start $APP failed"
n=$((restarts_so_far + 1))
wait_for 30 "the control room to start again" '[ "$(started_count)" -ge "$n" ]'
check_adopted "$n"
check_panes "after pm2 start"
wait_for 60 "cycles to resume" '[ "$(cycle_count)" -ge $((c1 + 3)) ]'
timing "pm2 start after stop, cycles resume"

# ---------------------------------------------------------------- signals and exit codes
# Every stop PM2 made was a SIGINT that brl answered with exit 0, none needed SIGKILL.
exits=$(pm2_log_count "exited with code \[0\] via signal \[SIGINT\]")
[ "$exits" -ge $((n - 1)) ] || fail "PM2 logged $exits clean exits (code 0 on SIGINT) for $((n - 1)) stops"
[ "$(pm2_log_count "still alive after")" = 0 ] || fail "PM2 had to SIGKILL the control room"
lines=$(q jsonlines "$BH/logs/pm2-out.log") || fail "pm2-out.log holds lines that are not JSON"
[ "$lines" -gt 0 ] || fail "pm2-out.log is empty"
grep -q "control room running" "$BH/logs/pm2-out.log" || fail "pm2-out.log lacks brl's start message"

# ---------------------------------------------------------------- brl down under PM2
say "brl down (PM2 still manages $APP)"
started=$(started_count)
restarts=$(pm2_field 3)
down_out=$(brl down 2>&1) || fail "brl down failed: $down_out"
# brl exited 0 on brl down's SIGTERM: stop_exit_codes [0] keeps PM2 from restarting it. (PM2 6
# then shows the app as "waiting restart" because restart_delay is set, but schedules nothing.)
sleep 7 # > restart_delay (5 s)
[ "$(started_count)" = "$started" ] || fail "PM2 restarted the control room after brl down"
[ "$(pm2_field 2)" = 0 ] && [ "$(pm2_field 3)" = "$restarts" ] ||
  fail "PM2 restarted $APP after brl down: $("$PM2" jlist 2>/dev/null | q pm2 "$APP")"
case "$(pm2_field 1)" in stopped | "waiting restart") ;; *) fail "PM2 says $APP is $(pm2_field 1) after brl down" ;; esac
st=$(brl status); grep -q "^control room: not running" <<<"$st" || fail "a control room runs after brl down"
[ -z "$(tmux -L "$SOCKET" list-panes -a -F '#{pane_id}' 2>/dev/null)" ] || fail "panes survived brl down"
[ "$(status_rows | awk -F'\t' '$1 ~ /^s[0-9]/ && $2 == "true"' | wc -l)" -eq 0 ] || fail "workers survived brl down"
timing "brl down under PM2"

# From that state `pm2 start` brings everything back: a new tmux session, 3 new panes.
say "pm2 start $APP after brl down"
pm2q start "$APP" || fail "pm2 start $APP after brl down failed"
n=$((n + 1))
wait_for 30 "the control room to start after brl down" '[ "$(started_count)" -ge "$n" ]'
row=$(q entries "$BH" control_started | sed -n "${n}p")
[ "$(cut -f3 <<<"$row")" = 3 ] || fail "after brl down, pm2 start should create 3 panes: $row"
[ "$(pm2_field 1)" = online ] || fail "PM2 says $APP is $(pm2_field 1) after pm2 start"
check_panes "after pm2 start following brl down"
wait_for 30 "the workers" workers_alive
say "pm2 delete $APP; brl down"
pm2q delete "$APP" || fail "pm2 delete failed"
down_again=$(brl down 2>&1) || fail "brl down after pm2 delete failed: $down_again"
grep -q "no control room was running" <<<"$down_again" || fail "pm2 delete left a control room: $down_again"
[ -z "$(tmux -L "$SOCKET" list-panes -a -F '#{pane_id}' 2>/dev/null)" ] || fail "panes survived brl down"
timing "pm2 start after brl down, pm2 delete, brl down"

# ---------------------------------------------------------------- nothing lost, nothing twice
dups=$(q cycles "$BH" | cut -f2 | sort | uniq -d)
[ -z "$dups" ] || fail "cycles logged more than once: $dups"
queue=$(brl queue list --json | q queue)
qdups=$(cut -f1 <<<"$queue" | sort | uniq -d)
[ -z "$qdups" ] || fail "branches queued twice: $qdups"
# Kept branches are queued; `error` ones with commits are kept for inspection; the rest deleted.
while IFS=$'\t' read -r _ branch outcome _; do
  exists=$(git -C "$REPO" branch --list "$branch")
  case "$outcome" in
    kept)
      [ -n "$exists" ] || fail "kept branch $branch is gone"
      awk -F'\t' -v b="$branch" '$1 == b && $2 == "pending"' <<<"$queue" | grep -q . || fail "kept branch $branch is not pending in the queue"
      ;;
    error) ;;
    *) [ -z "$exists" ] || fail "$outcome branch $branch was not deleted" ;;
  esac
done < <(q cycles "$BH")
for b in $(git -C "$REPO" branch --list 'brl/*' --format='%(refname:short)'); do
  cut -f1 <<<"$queue" | grep -qx "$b" && continue
  q cycles "$BH" | awk -F'\t' -v b="$b" '$2 == b && $3 == "error"' | grep -q . && continue
  fail "orphan branch $b: neither queued nor an error cycle's"
done
cycles=$(cycle_count)
outcomes=$(q cycles "$BH" | cut -f3 | sort | uniq -c | awk '{ printf "%s %s, ", $1, $2 }')
timing "checks"

"$PM2" kill >>"$CLI_LOG" 2>&1

say "$cycles cycles (${outcomes%, }), $n control-room starts, pm2 stop took ${stop_secs}s"
printf '  %s\n' "${TIMINGS[@]}"
printf '  %-44s %3ds\n' "total" "$SECONDS"
echo "pm2 test: passed"
