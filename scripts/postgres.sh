#!/usr/bin/env bash
# Starts or stops a throwaway PostgreSQL cluster for the tests, from Debian's packages.
#   scripts/postgres.sh start DIR PORT   -> prints the server URL
#   scripts/postgres.sh stop DIR
set -euo pipefail

find_bin() {
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/initdb" ] && { echo "$d"; return 0; }
  done
  return 1
}

case "${1:-}" in
  start)
    dir=$2 port=$3
    if ! bin=$(find_bin); then
      echo "installing postgresql from Debian packages" >&2
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >&2
      apt-get install -y -qq postgresql >&2
      bin=$(find_bin)
    fi
    rm -rf "$dir" && mkdir -p "$dir"
    # initdb refuses to run as root, so the cluster belongs to the postgres user.
    id postgres >/dev/null 2>&1 || useradd --system --home "$dir" postgres
    chown postgres "$dir"
    runuser -u postgres -- "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --no-sync >/dev/null
    runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w \
      -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=500" start >/dev/null
    echo "postgres://postgres@127.0.0.1:$port/postgres"
    ;;
  stop)
    dir=$2
    bin=$(find_bin) || exit 0
    [ -d "$dir/data" ] && runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$dir"
    ;;
  *)
    echo "usage: $0 start DIR PORT | stop DIR" >&2
    exit 2
    ;;
esac
