#!/bin/sh
# Adds a passing test; leaves it uncommitted (brl commits it).
set -e
printf '\n\ndef test_add_zero() -> None:\n    assert add(0, 7) == 7\n' >> tests/test_ops.py
