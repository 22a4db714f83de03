#!/bin/sh
# Fake agent: every session makes the SAME fix (the first ERR line of f1.txt), except s3 which
# fixes that same line differently (a near-twin). Commits.
set -e
cat > /dev/null
if [ "$BRL_SESSION" = s3 ]; then to=repaired; else to=fixed; fi
sed -i "0,/^ERR/s/^ERR/$to/" f1.txt
git add f1.txt
git commit -q -m "fix the first error in f1.txt (as $BRL_SESSION)"
echo "fixed f1.txt"
