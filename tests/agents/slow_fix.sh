#!/bin/sh
# Fake agent: takes a few seconds (long enough to restart the control room meanwhile), then fixes
# one ERR line like fix_one.sh.
sleep "${BRL_TEST_AGENT_SECS:-3}"
exec sh "$(dirname "$0")/fix_one.sh"
