#!/bin/sh
# Fake agent: crashes without changing anything.
echo "agent crashed" >&2
exit 3
