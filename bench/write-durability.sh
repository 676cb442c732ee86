#!/usr/bin/env bash
# What `sqliteSynchronous = "full"` costs: PATCH /v1/account/prefs (one committed write per
# request, no password hashing) at 16 connections, with synchronous NORMAL and then FULL, on
# one latchkey binary and one disk. Prints one table with the ratio.
#   bench/write-durability.sh [BINARY]      (default: target/release/latchkey, built if missing)
# Env: DURATION (seconds per run, default 10).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/target/release/latchkey}
duration=${DURATION:-10}
command -v wrk >/dev/null || { echo "installing wrk from Debian packages" >&2; apt-get install -y -qq wrk >&2; }
[ -x "$bin" ] || (cd "$root" && cargo build --release --quiet)

work=$(mktemp -d "${BENCH_DIR:-$root/target}/latchkey-bench.XXXXXX")
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

run() {
  local mode=$1 data="$work/data-$1"
  printf 'rateLimits = false\nsqliteSynchronous = "%s"\n[[projects]]\nid = "bench"\nname = "Bench"\n' "$mode" >"$work/$mode.toml"
  "$bin" serve --listen 127.0.0.1:0 --data "$data" --config "$work/$mode.toml" >"$work/out-$mode" 2>"$work/log-$mode" &
  pid=$!
  for _ in $(seq 1 100); do grep -q 'listening on' "$work/out-$mode" 2>/dev/null && break; sleep 0.1; done
  local url session
  url=$(grep -o 'http://[0-9.:]*' "$work/out-$mode")
  api() { curl -sf -X "$1" "$url$2" -H 'x-appwrite-project: bench' -H 'content-type: application/json' -d "$3" "${@:4}"; }
  api POST /v1/account '{"userId":"writer","email":"writer@example.com","password":"bench-password-1"}' >/dev/null
  session=$(api POST /v1/account/sessions/email '{"email":"writer@example.com","password":"bench-password-1"}' -D - -o /dev/null \
    | sed -n 's/^x-fallback-cookies: //Ip' | python3 -c 'import json,sys; print(json.load(sys.stdin)["a_session_bench"])')
  cat >"$work/prefs.lua" <<LUA
wrk.method = "PATCH"
wrk.headers["content-type"] = "application/json"
wrk.headers["x-appwrite-project"] = "bench"
wrk.headers["x-appwrite-session"] = "$session"
wrk.body = '{"prefs":{"theme":"dark","n":1}}'
LUA
  wrk -t2 -c16 -d"${duration}s" -s "$work/prefs.lua" "$url/v1/account/prefs" | awk '/Requests\/sec/ {print $2}'
  kill "$pid"; wait "$pid" 2>/dev/null || true; pid=""
}

normal=$(run normal)
full=$(run full)
printf '%-52s %12s\n' "measure ($bin, data on $(df --output=source "$work" | tail -1))" "value"
printf '%-52s %12s\n' "PATCH /v1/account/prefs req/s, synchronous NORMAL" "$normal"
printf '%-52s %12s\n' "PATCH /v1/account/prefs req/s, synchronous FULL" "$full"
printf '%-52s %12s\n' "FULL / NORMAL" "$(python3 -c "print(f'{$full/$normal:.2f}')")"
