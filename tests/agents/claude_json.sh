#!/bin/sh
# Fake agent shaped like Claude Code with --output-format json: fixes one error, prints the result object.
set -e
cat > /dev/null
f="f${BRL_SESSION#s}.txt"
sed -i '0,/^ERR/s/^ERR/fixed/' "$f"
git commit -q -am "fix one error"
echo '{"type":"result","subtype":"success","is_error":false,"num_turns":4,"result":"Fixed one error.","session_id":"sess-1","total_cost_usd":0.0312}'
