#!/bin/sh
# Adds a passing test and commits (a good change).
set -e
printf '\n\ndef test_inc_zero() -> None:\n    assert inc(0) == 1\n' >> tests/test_flip.py
git commit -q -am "tests: inc of zero"
