#!/bin/sh
# A fake agent for the periodic jobs' tests: answers by $BRL_ROLE and records each prompt in
# $BRL_HOME/../agent-stdin/<role>-<n>.txt. The review verdict comes from $BRL_HOME/../verdict
# (approve, reject or anything else for an answer without a verdict line); as `ralph` it is
# tests/agents/fix_one.sh.
dir="$BRL_HOME/../agent-stdin"
mkdir -p "$dir"
n=$(ls "$dir" | wc -l)
if [ "$BRL_ROLE" = "ralph" ]; then
  exec sh "$(dirname "$0")/fix_one.sh"
fi
cat > "$dir/$BRL_ROLE-$n.txt"
verdict=$(cat "$BRL_HOME/../verdict" 2>/dev/null || echo approve)
if [ "$verdict" = "hang" ]; then
  exec sleep 600
fi
case "$BRL_ROLE" in
  review|review-referee)
    echo "The change is small and does one thing."
    case "$verdict" in
      approve) echo "VERDICT: APPROVE" ;;
      reject) echo "VERDICT: REJECT" ;;
      *) echo "I am not sure." ;;
    esac
    ;;
  review-enthusiast) echo "1. It might break the parser." ;;
  review-adversary) echo "1. disproved: the parser is untouched." ;;
  *) echo "no answer for role $BRL_ROLE" >&2; exit 1 ;;
esac
