#!/bin/sh
# Fake agent for [agent] sandbox = "bwrap": starts a background child, then hangs. Both pids are
# recorded in the brl home's logs/ (the only place there that is writable inside the sandbox).
cat > /dev/null
sleep 300 &
echo $! > "$BRL_HOME/logs/hang-child.pid"
echo $$ > "$BRL_HOME/logs/hang-leader.pid"
sleep 300
