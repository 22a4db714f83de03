#!/bin/sh
# Fake agent for the recovery tests: records its pid (and so the processes of a dead cycle can be
# checked), sleeps a little, fixes one ERR line and commits it naming its branch, then leaves one
# more change uncommitted.
echo $$ >> "$BRL_HOME/agent-pids.txt"
cat > /dev/null
sleep "${BRL_TEST_AGENT_SECS:-1}"
f="f${BRL_SESSION#s}.txt"
sed -i '0,/^ERR/s/^ERR/fixed/' "$f"
git add "$f"
git commit -q -m "fix one error in $f on $BRL_BRANCH"
echo "left by the agent of $BRL_BRANCH" > "leftover.txt"
echo "fixed one error in $f"
