#!/bin/sh
# Fake agent for the merge train: session sN fixes one ERR line of fN.txt and adds markN.txt.
# The repository's check script fails a test only when mark1, mark2 and mark3 are all there.
set -e
cat > /dev/null
n="${BRL_SESSION#s}"
sed -i '0,/^ERR/s/^ERR/fixed/' "f$n.txt"
echo "mark $n" > "mark$n.txt"
git add -A
git commit -q -m "fix f$n.txt, add mark$n.txt"
echo "done"
