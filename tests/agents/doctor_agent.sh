#!/bin/sh
# Fake agent for the doctor's tests: answers by $BRL_ROLE and keeps each prompt it gets in
# $BRL_HOME/../agent-stdin/<role>-<n>.txt (n counts per role from 1). With DOCTOR_AGENT=broken
# the doctor fails and the skill notes are prose instead of the format.
set -e
dir="$BRL_HOME/../agent-stdin"
mkdir -p "$dir"
n=1
while [ -e "$dir/$BRL_ROLE-$n.txt" ]; do n=$((n + 1)); done
file="$dir/$BRL_ROLE-$n.txt"
cat > "$file"
case "$DOCTOR_AGENT-$BRL_ROLE" in
broken-doctor)
    echo "doctor_agent.sh: broken on purpose" >&2
    exit 3
    ;;
broken-skill)
    echo "The cycles went well; keep fixing ERR lines."
    exit 0
    ;;
esac
case "$BRL_ROLE" in
ralph)
    exec sh "$(dirname "$0")/fix_one.sh" < "$file"
    ;;
skill)
    cat <<NOTES
SKILL: Fix one ERR line at a time
WHEN: the type check counts ERR lines
TECHNIQUE:
Change only the first ERR line of the session's file and commit it alone (answer $n).

SKILL: Name the file in the commit message
WHEN: every commit
TECHNIQUE:
Say which file changed and why, in one line (answer $n).
NOTES
    ;;
doctor)
    echo "Advice for $BRL_SESSION: keep going; add one line about ERR lines to the prompt."
    ;;
*)
    echo "doctor_agent.sh: no answer for role $BRL_ROLE" >&2
    exit 1
    ;;
esac
