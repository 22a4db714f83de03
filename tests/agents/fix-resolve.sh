#!/bin/sh
# Fake fixer: resolves every conflict by keeping the change's side (between ======= and
# >>>>>>>), removes the marker lines, and commits. Records its prompt.
set -e
cat > "$BRL_HOME/prompt-fix-$BRL_SESSION.txt"
for f in $(grep -rl --exclude-dir=.git '^<<<<<<< ' . || true); do
  awk '/^<<<<<<< /{ours=1; next} /^=======$/{if (ours) {ours=0; next}} /^>>>>>>> /{next} {if (!ours) print}' "$f" > "$f.brl-tmp"
  mv "$f.brl-tmp" "$f"
  git add "$f"
done
git commit -q -m "resolve the conflicts with main by keeping the change's side" || true
echo "resolved"
