#!/bin/sh
# Breaks shout, so the passing test `test_shout` fails; leaves it uncommitted.
set -e
sed -i 's/return s.upper() + "!"/return s.lower() + "!"/' calc/ops.py
