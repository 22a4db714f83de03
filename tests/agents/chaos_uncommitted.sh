#!/bin/sh
# Chaos fake agent: records its pid, makes a real edit and a new file, and leaves both
# uncommitted (brl commits the leftover itself). Pid lines as in chaos_commit.sh.
set -e
cat > /dev/null
echo "${BRL_CHAOS_TAG:-none} agent $$ $BRL_BRANCH ${BRL_CYCLE_ID:--}" >> "$BRL_HOME/chaos-pids.txt"
f="f${BRL_SESSION#s}.txt"
sed -i '0,/^ERR/s/^ERR/fixed/' "$f"
echo "notes of $BRL_BRANCH" > "chaos-notes-${BRL_SESSION}.txt"
sleep "${BRL_CHAOS_AGENT_SECS:-0.3}"
echo "left one fix in $f uncommitted"
