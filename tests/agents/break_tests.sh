#!/bin/sh
# Fake agent: fixes a type error but turns a passing test into a failing one.
set -e
sed -i '0,/^ERR/s/^ERR/fixed/' f1.txt
sed -i 's/^PASS a/FAIL a/' tests.txt
git commit -q -am "fix an error, break a test"
