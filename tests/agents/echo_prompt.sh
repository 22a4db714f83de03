#!/bin/sh
# Fake plain-text agent that echoes its whole prompt on stdout before its answer (as some CLIs
# do), then answers what "$BRL_HOME/../answer" holds (a verdict, or none).
cat
echo
cat "$BRL_HOME/../answer"
