#!/bin/sh
# Fixes the `limit` type error and adds a different one: the count stays equal.
set -e
sed -i 's/export const limit: number = "ten";/export const limit: number = 10;/' src/math.ts
echo 'export const flag: boolean = 1;' >> src/math.ts
git commit -q -am "math: limit is a number, add a flag"
