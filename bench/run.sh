#!/usr/bin/env bash
# Latchkey against the bare-HTTP ceiling and a real peer (Better Auth), in one run, with one
# load tool (Debian's wrk). Writes docs/benchmarks/results.md (+ .json, + PNG plots).
#   bench/run.sh            full run: release build, 10 s per workload, PostgreSQL and the peer
#   bench/run.sh --smoke    1 s per workload with the debug build the tests made, no peer, no
#                           plots; for ./scripts/test.sh: checks the harness, asserts no speed
# Env: DURATION (seconds per workload), LATCHKEY_BENCH_POSTGRES_URL (use this server instead of
# starting a throwaway one), BENCH_OUT (output folder; default docs/benchmarks, or a temporary
# one for --smoke), BENCH_NO_PEER=1 (skip Better Auth), BENCH_SEED_USERS (users, five sessions
# each, seeded for the at-size figures: 1,000,000 by default, which takes about 7 min on SQLite
# and 9 on PostgreSQL here; 500 for --smoke; 0 skips them).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
smoke=false
[ "${1:-}" = --smoke ] && smoke=true
work=$(mktemp -d /tmp/latchkey-bench-run.XXXXXX)
chmod 755 "$work"
pg_started=false
cleanup() {
  $pg_started && scripts/postgres.sh stop "$work/pg" || true
  rm -rf "$work"
}
trap cleanup EXIT

command -v wrk >/dev/null || { echo "installing wrk from Debian packages" >&2; apt-get install -y -qq wrk >&2; }

if $smoke; then
  profile=debug duration=${DURATION:-1} out=${BENCH_OUT:-$work/out} seed_users=${BENCH_SEED_USERS:-500}
  # The tests' build; examples are built with them (`cargo test` compiles examples).
  cargo build --quiet --bins --examples
else
  profile=release duration=${DURATION:-10} out=${BENCH_OUT:-$root/docs/benchmarks} seed_users=${BENCH_SEED_USERS:-1000000}
  cargo build --release --quiet --bins --examples
fi

pg_url=${LATCHKEY_BENCH_POSTGRES_URL:-}
if [ -z "$pg_url" ]; then
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  pg_url=$(scripts/postgres.sh start "$work/pg" "$port")
  pg_started=true
fi

# The peer, from its pinned lockfile (npm ci compiles better-sqlite3: about 2 minutes on a
# fresh machine), and matplotlib for the plots in the bench's own venv. --smoke skips both
# to keep ./scripts/test.sh short: it checks the harness on latchkey and the ceiling.
peer_args=()
python=python3
if ! $smoke; then
  if [ "${BENCH_NO_PEER:-}" != 1 ]; then
    (cd bench/peer && npm ci --no-audit --no-fund --loglevel=error)
    peer_args=(--peer-dir "$root/bench/peer")
  fi
  venv=bench/.venv
  [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "matplotlib==3.10.7"
  python=$venv/bin/python
fi

command="bench/run.sh${1:+ $1}"
"$python" bench/harness.py --profile "$profile" --duration "$duration" --out "$out" \
  --postgres-url "$pg_url" --command "$command" --seed-users "$seed_users" "${peer_args[@]+"${peer_args[@]}"}"
