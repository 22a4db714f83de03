#!/bin/sh
# A stand-in for a worker that ignores SIGTERM and SIGHUP (as a hung worker does), for
# `brl down` tests: it takes session s1's worker lock like `brl worker s1`, starts an "agent" in
# a process group of its own in the session's worktree, records that group in running.pgid like
# a cycle does, and sleeps. Arguments: <home>.
home="$1"
lock="$home/logs/locks/worker-s1.lock"
wt="$home/worktrees/s1"
pgid="$home/logs/sessions/s1/running.pgid"
mkdir -p "$home/logs/locks" "$wt" "$home/logs/sessions/s1"
trap '' TERM HUP INT
exec 9>>"$lock"
flock -x 9
echo $$ > "$lock"
# The agent: its own session and group (setsid), in the worktree, deaf to TERM and HUP too.
(cd "$wt" && exec setsid sh -c 'echo "$$ '"$wt"'" > "'"$pgid"'.tmp" && mv "'"$pgid"'.tmp" "'"$pgid"'"; exec sleep 300') &
# The ignored signals and the lock's descriptor stay with sleep.
exec sleep 300
