#!/bin/sh
# Renames the package in package.json and its lockfile: a new lockfile version, and commits.
set -e
sed -i 's/"name": "ratchet-ts"/"name": "ratchet-ts-lib"/' package.json package-lock.json
git commit -q -am "package: a clearer name"
