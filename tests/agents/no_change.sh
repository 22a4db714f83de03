#!/bin/sh
# Fake agent: reads its prompt and changes nothing.
cat > /dev/null
echo "nothing to do"
