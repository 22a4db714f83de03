#!/bin/sh
# Fake agent for a host's session (`a-s1`, `a-s2`): fixes the first ERR line of f<N>.txt, N being
# the session's number, and commits.
set -e
cat > /dev/null
n="${BRL_SESSION##*-s}"
f="f$n.txt"
sed -i '0,/^ERR/s/^ERR/fixed/' "$f"
git add "$f"
git commit -q -m "fix one error in $f on $BRL_SESSION"
echo "fixed one error in $f"
