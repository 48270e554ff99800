#!/usr/bin/env bash
# Makes sure a PostgreSQL server for df's tests is running, and prints its URL on stdout
# (everything else goes to stderr). Idempotent and safe to run concurrently: a second
# call finds the server up and only prints the URL.
#
# On a machine without PostgreSQL (a fresh Debian 12, as root) it installs the Debian
# `postgresql` package first. The server is a private cluster, not the distribution's
# one: data in $DF_PG_DIR (default /tmp/df-pg), owned by the `postgres` user when run
# as root (initdb refuses root), listening on 127.0.0.1:$DF_PG_PORT (default 55432)
# only, trust authentication, fsync off: a throwaway server for tests, never for data.
#
#   url=$(scripts/ci/postgres.sh)      # postgres://postgres@127.0.0.1:55432/df_test
set -euo pipefail

port="${DF_PG_PORT:-55432}"
dir="${DF_PG_DIR:-/tmp/df-pg}"
database="${DF_PG_DATABASE:-df_test}"
log() { echo "postgres.sh: $*" >&2; }

find_bindir() {
  local candidate
  if candidate=$(command -v pg_ctl 2>/dev/null) && [ -x "$(dirname "$(readlink -f "$candidate")")/initdb" ]; then
    dirname "$(readlink -f "$candidate")"
    return 0
  fi
  # Debian keeps the server binaries out of PATH; take the newest major version.
  for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -t/ -k4 -V -r); do
    if [ -x "$candidate/pg_ctl" ] && [ -x "$candidate/initdb" ]; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

if ! bindir=$(find_bindir); then
  if [ "$(id -u)" -ne 0 ]; then
    log "pg_ctl/initdb not found and not root: install the postgresql package (apt-get install -y postgresql)"
    exit 1
  fi
  log "installing postgresql from Debian"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
  bindir=$(find_bindir) || { log "postgresql installed but pg_ctl/initdb still not found"; exit 1; }
fi

# initdb and postgres refuse to run as root: run them as `postgres` (created if missing).
run_as=()
if [ "$(id -u)" -eq 0 ]; then
  if ! id postgres >/dev/null 2>&1; then
    useradd --system --home-dir /var/lib/postgresql --shell /bin/sh postgres
  fi
  run_as=(runuser -u postgres --)
fi

mkdir -p "$(dirname "$dir")"
# Serialise concurrent callers (parallel test workers) on one lock file. The server must
# not inherit the lock's descriptor (9>&- below), or it would hold the lock forever.
exec 9>"$dir.lock"
flock -w 120 9 || { log "timed out waiting for $dir.lock"; exit 1; }

url="postgres://postgres@127.0.0.1:${port}/${database}"
ready() { "$bindir/pg_isready" -q -h 127.0.0.1 -p "$port" -U postgres -d postgres; }

if ! ready; then
  if [ ! -s "$dir/PG_VERSION" ]; then
    log "creating a cluster in $dir"
    rm -rf "$dir"
    mkdir -p "$dir"
    [ ${#run_as[@]} -gt 0 ] && chown postgres: "$dir"
    chmod 700 "$dir"
    "${run_as[@]}" "$bindir/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --no-sync >"$dir.initdb.log" 2>&1 || {
      cat "$dir.initdb.log" >&2
      exit 1
    }
  fi
  [ ${#run_as[@]} -gt 0 ] && chown -R postgres: "$dir"
  log "starting the server on 127.0.0.1:$port"
  "${run_as[@]}" "$bindir/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >&2 9>&- || {
    tail -n 30 "$dir/server.log" >&2 || true
    exit 1
  }
fi

for _ in $(seq 1 60); do ready && break; sleep 0.5; done
ready || { log "the server on 127.0.0.1:$port does not answer"; exit 1; }

psql=("$bindir/psql" -X -q -h 127.0.0.1 -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1)
if [ "$("${psql[@]}" -tAc "select 1 from pg_database where datname = '${database}'")" != "1" ]; then
  "${psql[@]}" -c "create database \"${database}\"" >&2
fi
echo "$url"
