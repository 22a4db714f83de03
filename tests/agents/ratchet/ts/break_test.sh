#!/bin/sh
# Breaks clamp, so the passing test `clamp > keeps inside` fails; leaves it uncommitted.
set -e
sed -i 's/return Math.min(hi, Math.max(lo, x));/return Math.max(hi, Math.min(lo, x));/' src/math.ts
