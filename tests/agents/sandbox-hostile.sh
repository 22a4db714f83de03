#!/bin/sh
# Fake agent for [agent] sandbox = "bwrap": tries to destroy or read what lies outside its worktree
# through many spellings, records what happened to each attempt in the brl home's logs/ (writable
# in the sandbox), after doing its real job: fixes one ERR line and commits.
# VICTIM_DIR (a dir outside the worktree and /tmp) and VICTIM_REPO (the user's checkout) come from
# the test's environment.
cat > /dev/null
log="$BRL_HOME/logs/sandbox-attempts.txt"
: > "$log"
try() {
  if "$@" >>"$log" 2>&1; then echo "ALLOWED: $*" >>"$log"; else echo "refused: $*" >>"$log"; fi
}
# the real job first (so moving main to HEAD would change it), in the worktree
f="f${BRL_SESSION#s}.txt"
sed -i '0,/^ERR/s/^ERR/fixed/' "$f"
git add "$f"
git commit -q -m "fix one error in $f"
v="$VICTIM_DIR/keep.txt"
r="$VICTIM_REPO"
try rm -f "$v"
try sh -c "echo clobbered > '$v'"
try sh -c "echo more >> '$r/tests.txt'"
try /usr/bin/python3 -c "import os; os.remove('$v')"
try /usr/bin/python3 -c "open('$r/f1.txt', 'w').write('gone')"
try perl -e "unlink('$v') or die 'unlink: ' . \$!"
try cp /etc/hostname "$v"
try mv "$v" "$VICTIM_DIR/moved.txt"
try mv "$r/AGENTS.md" "$r/AGENTS.old"
try rm -rf "$r/.git/refs/heads/main"
try git update-ref refs/heads/main HEAD
try git push -q . HEAD:main
try git -C "$r" reset -q --hard HEAD
try touch "$BRL_HOME/brl.toml"
# as root: remount the read-only file system read-write, then write (needs CAP_SYS_ADMIN)
try sh -c "mount -o remount,bind,rw / && echo clobbered > '$v'"
try sh -c "mount -o remount,bind,rw '$r' && echo clobbered > '$r/tests.txt'"
# secrets: their content must not be readable
cat "$HOME/.ssh/id_test" >>"$log" 2>&1
cat "$r/.env" >>"$log" 2>&1
echo "attempts done" >>"$log"
echo "fixed one error in $f"
