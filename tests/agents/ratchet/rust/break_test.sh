#!/bin/sh
# Breaks clamp, so the passing test `tests::clamp_keeps_inside` fails; leaves it uncommitted.
set -e
sed -i 's/x.max(lo).min(hi)/x.min(lo).max(hi)/' src/lib.rs
