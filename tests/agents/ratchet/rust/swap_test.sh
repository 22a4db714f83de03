#!/bin/sh
# Fixes sub (`tests::sub_subtracts` passes) and breaks clamp (`tests::clamp_keeps_inside` fails).
set -e
sed -i -e 's/^    b - a$/    a - b/' -e 's/x.max(lo).min(hi)/x.min(lo).max(hi)/' src/lib.rs
git commit -q -am "fix sub, rework clamp"
