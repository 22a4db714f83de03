#!/bin/sh
# Fake agent for standups: answers by $BRL_ROLE and records its prompt (stdin) in
# $BRL_HOME/../agent-stdin/<role>-<session or cto>-<unique>.txt. As `ralph` it is fix_one.sh, so
# real cycles happen first. STANDUP_FAIL=<role> makes that role fail (exit 1).
set -e
if [ "$BRL_ROLE" = ralph ]; then
    exec sh "$(dirname "$0")/fix_one.sh"
fi
who="${BRL_SESSION:-cto}"
dir="$BRL_HOME/../agent-stdin"
mkdir -p "$dir"
cat > "$dir/$BRL_ROLE-$who-$(date +%s%N)-$$.txt"
if [ "$BRL_ROLE" = "${STANDUP_FAIL:-}" ]; then
    echo "standup agent: failing as $BRL_ROLE on purpose" >&2
    exit 1
fi
n="${who#s}"
case "$BRL_ROLE" in
    standup-report) echo "Report of $who: fixed one ERR line in f$n.txt; nothing stuck; need a review." ;;
    standup-respond) echo "Response of $who: no overlap with the others; all of us fix our own file." ;;
    standup-commit)
        echo "I will go on with my file."
        echo "TASK: Fix the last ERR line in f$n.txt"
        echo "Proposal: each session keeps to its own file"
        ;;
    standup) printf 'The sessions each kept one fix.\nPriorities: review the branches.\nBlockers: none.\n' ;;
    *) echo "standup agent: unexpected role $BRL_ROLE" >&2; exit 2 ;;
esac
