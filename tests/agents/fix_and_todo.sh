#!/bin/sh
# Fake agent: fixes one ERR line in its session's file and leaves two TODO lines there; commits.
set -e
cat > /dev/null
f="f${BRL_SESSION#s}.txt"
sed -i '0,/^ERR/s/^ERR/fixed/' "$f"
printf 'TODO tidy up\nTODO tidy up more\n' >> "$f"
git add "$f"
git commit -q -m "fix one error in $f, two TODOs left"
echo "fixed one error in $f"
