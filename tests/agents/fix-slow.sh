#!/bin/sh
# Fake fixer that takes its time (so two repairs overlap), then resolves like fix-resolve.sh.
sleep 4
exec sh "$(dirname "$0")/fix-resolve.sh"
