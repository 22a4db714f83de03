#!/bin/sh
# Fake agent: edits the line a test names in $BRL_HOME/edit-$BRL_SESSION (format: "file|new text"), commits.
set -e
spec=$(cat "$BRL_HOME/edit-$BRL_SESSION")
file=${spec%%|*}
text=${spec#*|}
printf '%s\n' "$text" > "$file"
git add "$file"
git commit -q -m "edit $file"
