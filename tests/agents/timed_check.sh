#!/bin/sh
# A "type check" that takes a moment and records when it ran: `start <ns>` / `end <ns>` lines
# appended to the file named by $1. It counts ERR lines in f*.txt like the default check.
echo "start $(date +%s%N)" >> "$1"
sleep 0.3
cat f*.txt
echo "end $(date +%s%N)" >> "$1"
