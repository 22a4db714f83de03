#!/bin/sh
# Fake agent: adds one ERR line and commits.
set -e
echo "ERR new" >> f1.txt
git commit -q -am "oops: add an error"
