#!/usr/bin/env bash
# What brl and its tests need on the machine besides Rust: git, tmux, bubblewrap (`bwrap`,
# for [agent] sandbox = "bwrap" and tests/sandbox.rs) and OpenSSH's client and server (`[[hosts]]`;
# the multi-host tests start their own sshd on loopback), installed with apt-get
# (through sudo when not root) when missing. Used by tests/run.sh and by the README's demo command.
set -euo pipefail
need=()
command -v git >/dev/null 2>&1 || need+=(git)
command -v tmux >/dev/null 2>&1 || need+=(tmux)
command -v bwrap >/dev/null 2>&1 || need+=(bubblewrap)
command -v ssh >/dev/null 2>&1 || need+=(openssh-client)
[ -x /usr/sbin/sshd ] || command -v sshd >/dev/null 2>&1 || need+=(openssh-server)
if [ ${#need[@]} -gt 0 ]; then
  echo "tests/deps.sh: installing ${need[*]}"
  sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { echo "tests/deps.sh: need ${need[*]}; install them (no root, no sudo)" >&2; exit 1; }
    sudo="sudo"
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
fi
if ! command -v cargo >/dev/null 2>&1; then
  echo "tests/deps.sh: cargo is missing; install Rust (https://rustup.rs) first" >&2
  exit 1
fi
