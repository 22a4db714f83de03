#!/bin/sh
# Fake agent for [agent] sandbox = "bwrap": starts a background child, then hangs. Both sleep for
# $HANG_SECS (a number the test picks, so it can find them in the host's /proc: inside the
# sandbox's PID namespace their pids mean nothing outside). It notes in the brl home's logs/ (the
# only place there that is writable inside the sandbox) that both started.
cat > /dev/null
sleep "$HANG_SECS" &
echo $! > "$BRL_HOME/logs/hang-child.pid"
echo $$ > "$BRL_HOME/logs/hang-leader.pid"
sleep "$HANG_SECS"
