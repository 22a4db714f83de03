#!/bin/sh
# Fake fixer that gives up: reads its prompt, changes nothing (the markers stay).
cat > "$BRL_HOME/prompt-fix-$BRL_SESSION.txt"
echo "I cannot resolve this"
