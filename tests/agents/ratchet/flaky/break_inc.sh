#!/bin/sh
# Breaks inc, so the steady test `test_inc` fails (a real regression), and commits.
set -e
sed -i 's/return x + 1/return x + 2/' flip/__init__.py
git commit -q -am "flip: inc by two"
