#!/usr/bin/env bash
# Makes sure the tools of the network testbed (test/net, `pnpm bench:net`) are on this
# machine, installing the missing ones from Debian. Prints nothing on stdout; progress
# goes to stderr. Idempotent and safe to run concurrently: once everything is there, a
# call only checks.
#
#   ip, tc       iproute2     network namespaces, veth pairs, the bridge, htb + bfifo
#   curl         curl         the "direct" system: every peer fetches from the origin
#   aria2c       aria2        the BitTorrent system: leechers and the seeder
#   opentracker  opentracker  the BitTorrent tracker
#
# On a fresh Debian 12 this needs root (apt-get). The testbed itself needs root anyway.
#
#   scripts/ci/net-tools.sh && node test/net/run.mjs --short
set -euo pipefail

log() { echo "net-tools.sh: $*" >&2; }

# command → Debian package that provides it
declare -A package_of=([ip]=iproute2 [tc]=iproute2 [curl]=curl [aria2c]=aria2 [opentracker]=opentracker)

# Debian puts ip and tc in /usr/sbin and /sbin, which a non-login shell may lack on PATH.
has() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }

missing_packages() {
  local cmd
  for cmd in "${!package_of[@]}"; do
    has "$cmd" || echo "${package_of[$cmd]}"
  done | sort -u
}

missing=$(missing_packages)
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  log "missing and not root: install them with apt-get install -y $(echo $missing)"
  exit 1
fi

# Two callers would both run apt-get update: serialise them, and let the second find
# the first one's install.
exec 9>/tmp/df-net-tools-install.lock
flock -w 900 9 || { log "timed out waiting for /tmp/df-net-tools-install.lock"; exit 1; }
missing=$(missing_packages)
[ -z "$missing" ] && exit 0

log "installing from Debian: $(echo $missing)"
export DEBIAN_FRONTEND=noninteractive
# Debian's opentracker package ships a service that would listen on every address of
# the root namespace; the testbed starts its own tracker inside a namespace. A
# policy-rc.d for the duration of the install keeps maintainer scripts from starting
# any service (the file is removed again unless it was already there).
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy"
  chmod +x "$policy"
  own_policy=1
fi
trap 'if [ "$own_policy" = 1 ]; then rm -f "$policy"; fi' EXIT
apt-get update -qq >&2
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $missing >&2

still=$(missing_packages)
if [ -n "$still" ]; then
  log "installed, but still missing commands of: $(echo $still)"
  exit 1
fi
log "done"
