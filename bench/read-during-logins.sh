#!/usr/bin/env bash
# GET /v1/account throughput at 64 connections, alone and during a login storm, on one
# latchkey binary (SQLite unless LATCHKEY_DATABASE_URL is set). Prints one table.
#   bench/read-during-logins.sh [BINARY]      (default: target/release/latchkey, built if missing)
# Env: DURATION (seconds per run, default 15), STORM (login connections, default 8).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
bin=${1:-$root/target/release/latchkey}
duration=${DURATION:-15}
storm=${STORM:-8}
command -v wrk >/dev/null || { echo "installing wrk from Debian packages" >&2; apt-get install -y -qq wrk >&2; }
[ -x "$bin" ] || (cd "$root" && cargo build --release --quiet)

work=$(mktemp -d /tmp/latchkey-bench.XXXXXX)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cat >"$work/bench.toml" <<'TOML'
# The storm logs one user in over and over from one address: limits off, to measure hashing.
rateLimits = false
[[projects]]
id = "bench"
name = "Bench"
  [[projects.platforms]]
  type = "web"
  hostname = "localhost"
  [projects.auth]
  maxSessions = 100
TOML

"$bin" serve --listen 127.0.0.1:0 --data "$work/data" --config "$work/bench.toml" >"$work/out" 2>"$work/log" &
pid=$!
for _ in $(seq 1 100); do grep -q 'listening on' "$work/out" 2>/dev/null && break; sleep 0.1; done
url=$(grep -o 'http://[0-9.:]*' "$work/out")

api() { curl -sf -X "$1" "$url$2" -H 'x-appwrite-project: bench' -H 'content-type: application/json' -d "$3" "${@:4}"; }
api POST /v1/account '{"userId":"reader","email":"reader@example.com","password":"bench-password-1"}' >/dev/null
api POST /v1/account '{"userId":"stormer","email":"storm@example.com","password":"bench-password-1"}' >/dev/null
session=$(api POST /v1/account/sessions/email '{"email":"reader@example.com","password":"bench-password-1"}' -D - -o /dev/null \
  | sed -n 's/^x-fallback-cookies: //Ip' | python3 -c 'import json,sys; print(json.load(sys.stdin)["a_session_bench"])')

cat >"$work/login.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["content-type"] = "application/json"
wrk.headers["x-appwrite-project"] = "bench"
wrk.body = '{"email":"storm@example.com","password":"bench-password-1"}'
LUA

read_run() {
  wrk -t2 -c64 -d"${duration}s" -H "x-appwrite-project: bench" -H "x-appwrite-session: $session" \
    "$url/v1/account" | awk '/Requests\/sec/ {print $2}'
}

alone=$(read_run)
wrk -t1 -c"$storm" -d"$((duration + 4))s" -s "$work/login.lua" "$url/v1/account/sessions/email" >"$work/storm" &
storm_pid=$!
sleep 2
during=$(read_run)
wait "$storm_pid"
logins=$(awk '/Requests\/sec/ {print $2}' "$work/storm")
rss=$(awk '/VmRSS/ {print $2 " " $3}' "/proc/$pid/status")
# A burst of 150 concurrent logins: RSS afterwards shows what the hashing pool keeps.
wrk -t2 -c150 -d"${duration}s" -s "$work/login.lua" "$url/v1/account/sessions/email" >/dev/null
sleep 2
burst_rss=$(awk '/VmRSS/ {print $2 " " $3}' "/proc/$pid/status")

printf '%-44s %12s\n' "measure ($bin)" "value"
printf '%-44s %12s\n' "GET /v1/account req/s, 64 conns, alone" "$alone"
printf '%-44s %12s\n' "GET /v1/account req/s, 64 conns, during storm" "$during"
printf '%-44s %12s\n' "logins/s of the storm ($storm conns)" "$logins"
printf '%-44s %12s\n' "server RSS after the storm" "$rss"
printf '%-44s %12s\n' "server RSS after a 150-connection burst" "$burst_rss"
