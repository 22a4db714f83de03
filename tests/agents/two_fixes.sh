#!/bin/sh
# Fake agent: fixes the first ERR line of f1.txt and of f2.txt, in two commits.
set -e
cat > /dev/null
sed -i '0,/^ERR/s/^ERR/fixed/' f1.txt
git commit -q -am "fix f1"
sed -i '0,/^ERR/s/^ERR/fixed/' f2.txt
git commit -q -am "fix f2"
echo "fixed f1 and f2"
