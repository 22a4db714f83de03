#!/bin/sh
# Fake agent whose output, commit subject and change carry terminal escape sequences: a colour
# (allowed on the echo), a screen clear, a window title (OSC), a cursor move and a bell.
cat > /dev/null
printf '\033[32mgreen ok\033[0m \033[2J\033[H\033]0;pwned\007\033[5Aup\n'
f="f${BRL_SESSION#s}.txt"
sed -i '0,/^ERR/s/^ERR/fixed/' "$f"
printf 'evil \033[2J\033]0;title\007 line\n' >> "$f"
git add "$f"
git commit -q -m "$(printf 'fix one \033[31merror\033[0m \033]0;owned\007\033[2J')"
