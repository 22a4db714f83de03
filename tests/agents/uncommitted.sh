#!/bin/sh
# Fake agent: fixes an error but leaves the change (and a new file) uncommitted.
sed -i '0,/^ERR/s/^ERR/fixed/' f1.txt
echo "new" > notes.txt
