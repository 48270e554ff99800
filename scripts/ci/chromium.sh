#!/usr/bin/env bash
# Prints the path of a Chromium executable for df's browser tests on stdout (everything
# else goes to stderr). Idempotent and safe to run concurrently: once Chromium is there,
# a call only prints its path.
#
# Looks at $DF_CHROMIUM first (it must be executable), then for chromium, chromium-browser,
# google-chrome and google-chrome-stable on PATH and in /usr/bin. On a machine without any
# (a fresh Debian 12, as root) it installs the Debian `chromium` package first.
#
#   chromium=$(scripts/ci/chromium.sh)      # /usr/bin/chromium
set -euo pipefail

log() { echo "chromium.sh: $*" >&2; }

if [ -n "${DF_CHROMIUM:-}" ]; then
  if [ -x "$DF_CHROMIUM" ] && [ ! -d "$DF_CHROMIUM" ]; then
    echo "$DF_CHROMIUM"
    exit 0
  fi
  log "DF_CHROMIUM=$DF_CHROMIUM is not an executable file"
  exit 1
fi

find_chromium() {
  local name candidate
  for name in chromium chromium-browser google-chrome google-chrome-stable; do
    for candidate in "$(command -v "$name" 2>/dev/null || true)" "/usr/bin/$name"; do
      if [ -n "$candidate" ] && [ -x "$candidate" ]; then
        echo "$candidate"
        return 0
      fi
    done
  done
  return 1
}

if path=$(find_chromium); then
  echo "$path"
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  log "no Chromium found and not root: install Debian's chromium package (apt-get install -y chromium), or set DF_CHROMIUM to a Chromium executable"
  exit 1
fi

# apt/dpkg hold their own locks, but two test workers would both run apt-get update:
# serialise them, and let the second find the first one's install.
exec 9>/tmp/df-chromium-install.lock
flock -w 900 9 || { log "timed out waiting for /tmp/df-chromium-install.lock"; exit 1; }
if path=$(find_chromium); then
  echo "$path"
  exit 0
fi

log "installing chromium from Debian (a few minutes on a fresh machine)"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
apt-get install -y -qq --no-install-recommends chromium fonts-liberation >&2
path=$(find_chromium) || { log "chromium installed but no executable found"; exit 1; }
echo "$path"
