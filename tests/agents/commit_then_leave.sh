#!/bin/sh
# Fake agent: fixes one ERR line and commits on the cycle's branch, then leaves the worktree on a
# branch of its own (the cycle ends in `error`; the commit must not be lost).
set -e
cat > /dev/null
f="f${BRL_SESSION#s}.txt"
sed -i '0,/^ERR/s/^ERR/fixed/' "$f"
git add "$f"
git commit -q -m "fix one error in $f"
git checkout -q -b agent-wandered-off
