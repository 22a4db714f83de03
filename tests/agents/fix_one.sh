#!/bin/sh
# Fake agent: fixes one ERR line in its session's file (f<N>.txt for session sN or <host>-sN) and
# commits. Records its prompt and env.
set -e
cat > "$BRL_HOME/prompt-$BRL_SESSION.txt"
env | grep '^BRL_' | sort > "$BRL_HOME/env-$BRL_SESSION.txt"
f="f${BRL_SESSION##*s}.txt"
sed -i '0,/^ERR/s/^ERR/fixed/' "$f"
git add "$f"
git commit -q -m "fix one error in $f"
echo "fixed one error in $f"
