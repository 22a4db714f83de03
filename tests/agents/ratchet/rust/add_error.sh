#!/bin/sh
# Adds a second type error to the example and commits.
set -e
sed -i 's/^fn main() {$/fn main() {\n    let flag: bool = 1;/' examples/demo.rs
git commit -q -am "demo: add a flag"
