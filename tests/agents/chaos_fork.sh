#!/bin/sh
# Chaos fake agent: forks a background child that sleeps (it must die with its cycle), records
# both pids, makes a real edit and commits it, then sleeps a little itself. Pid lines as in
# chaos_commit.sh.
set -e
cat > /dev/null
sleep 120 &
echo "${BRL_CHAOS_TAG:-none} child $! $BRL_BRANCH ${BRL_CYCLE_ID:--}" >> "$BRL_HOME/chaos-pids.txt"
echo "${BRL_CHAOS_TAG:-none} agent $$ $BRL_BRANCH ${BRL_CYCLE_ID:--}" >> "$BRL_HOME/chaos-pids.txt"
f="f${BRL_SESSION#s}.txt"
sed -i '0,/^ERR/s/^ERR/fixed/' "$f"
git add "$f"
git commit -q -m "chaos: fix one error in $f (a child still sleeps)"
sleep "${BRL_CHAOS_AGENT_SECS:-0.3}"
echo "fixed one error in $f"
