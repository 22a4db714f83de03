#!/bin/sh
# Chaos fake agent: records its pid (and the cycle it runs for), makes a real edit, pauses so a
# kill can land while it runs, and commits. Lines in $BRL_HOME/chaos-pids.txt:
# <tag> <role> <pid> <branch> <cycle id>.
set -e
cat > /dev/null
echo "${BRL_CHAOS_TAG:-none} agent $$ $BRL_BRANCH ${BRL_CYCLE_ID:--}" >> "$BRL_HOME/chaos-pids.txt"
f="f${BRL_SESSION#s}.txt"
sed -i '0,/^ERR/s/^ERR/fixed/' "$f"
sleep "${BRL_CHAOS_AGENT_SECS:-0.3}"
git add "$f"
git commit -q -m "chaos: fix one error in $f"
echo "fixed one error in $f"
