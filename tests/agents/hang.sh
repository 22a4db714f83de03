#!/bin/sh
# Fake agent: starts a background child, then hangs. Both pids are recorded for the test.
sleep 300 &
echo $! > "$BRL_HOME/hang-child.pid"
echo $$ > "$BRL_HOME/hang-leader.pid"
sleep 300
