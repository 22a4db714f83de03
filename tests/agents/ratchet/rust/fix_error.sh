#!/bin/sh
# Fixes the type error in the example and commits.
set -e
sed -i 's/let n: u32 = "three";/let n: u32 = 3;/' examples/demo.rs
git commit -q -am "demo: n is a number"
