#!/bin/sh
# Fake agent: fixes one ERR line without committing, and leaves agent state behind as aider and
# Claude Code do (a chat history, a cache dir, local settings) — brl's leftover commit must take
# the fix and leave the state out.
set -e
cat > /dev/null
f="f${BRL_SESSION#s}.txt"
sed -i '0,/^ERR/s/^ERR/fixed/' "$f"
echo "# aider chat started" > .aider.chat.history.md
mkdir -p .aider.tags.cache.v4 .claude
echo "cache" > .aider.tags.cache.v4/cache.db
echo '{"permissions":{}}' > .claude/settings.local.json
echo "fixed one error in $f, left state"
