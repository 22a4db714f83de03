#!/bin/sh
# Fake agent for a whole control room: repairs like fix-resolve.sh when the prompt is the
# fixer's, else works like fix_one.sh.
p=$(cat)
d=$(dirname "$0")
if printf '%s' "$p" | grep -q 'the fixer'; then
  printf '%s' "$p" | exec sh "$d/fix-resolve.sh"
fi
printf '%s' "$p" | exec sh "$d/fix_one.sh"
