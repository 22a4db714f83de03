#!/bin/sh
# Adds a new type error and commits.
set -e
echo 'export const flag: boolean = 1;' >> src/math.ts
git commit -q -am "math: add a flag"
