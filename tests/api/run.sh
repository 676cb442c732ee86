#!/usr/bin/env bash
# API fuzzing: PyPI schemathesis against a running latchkey, from the OpenAPI document the
# server generates from its route table (/v1/openapi.json). Two runs, one with a fresh user's
# session per call (Account API) and one with the API key (Users API, GraphQL); checks: no 5xx, every status declared, every body
# matching its schema; then every operation must have had a 2xx.
#   tests/api/run.sh BASE_URL PYTHON_VENV_DIR EXAMPLES   (LATCHKEY_PROJECT, LATCHKEY_KEY set)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
base=$1 venv=$(realpath -m "$2") examples=${3:-10}
[ -x "$venv/bin/st" ] || python3 -m venv "$venv"
# cryptography and cbor2: the hooks answer passkey ceremonies with the SDK suite's authenticator.
"$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==4.32.5" \
  "cryptography==44.0.0" "cbor2==5.6.5"
work=$(mktemp -d /tmp/latchkey-api.XXXXXX)
trap 'rm -rf "$work"' EXIT
curl -sf "$base/v1/openapi.json" -o "$work/openapi.json"
printf '[cache]\nenabled = false\n' >"$work/st.toml"
export LK_STATUS_FILE="$work/statuses.jsonl" LK_PROJECT="$LATCHKEY_PROJECT" SCHEMATHESIS_HOOKS="$here/hooks.py"
status=0
for mode in session key; do
  auth=()
  # Only keys hold the Users API's and health's scopes: a session would get its 401 on every
  # call (`/v1/health/version` is open to all, and the key run covers it).
  filter=(--exclude-path-regex '^/v1/(users|health)')
  # A key opens no Account route (they need a session, or a guest, which the session run
  # already is), so the key run is the Users API, GraphQL and health.
  [ "$mode" = key ] && auth=(--header "X-Appwrite-Key: $LATCHKEY_KEY") &&
    filter=(--include-path-regex '^/v1/(users|graphql|health)')
  echo "schemathesis, $mode mode, $examples examples per operation"
  # Run from the scratch folder: schemathesis keeps its state in the working directory.
  (cd "$work" && LK_MODE=$mode "$venv/bin/st" --config-file st.toml run "$work/openapi.json" --url "$base" \
    --phases examples,coverage,fuzzing --max-examples "$examples" --seed 7 --generation-database none \
    --workers 1 --request-timeout 20 \
    --checks not_a_server_error,status_code_conformance,response_schema_conformance \
    --header "X-Appwrite-Project: $LATCHKEY_PROJECT" ${auth[@]+"${auth[@]}"} ${filter[@]+"${filter[@]}"} \
    --report junit --report-junit-path "$work/junit-$mode.xml") || status=1
done
# The 2.x consent routes are placeholders: there is never a consent to name (README "The 2.x
# routes"), so they answer 404 whatever is sent.
consents=()
for op in "GET /v1/account/consents/{consentId}" "DELETE /v1/account/consents/{consentId}" \
  "GET /v1/account/consents/{consentId}/tokens" "GET /v1/account/consents/{consentId}/tokens/{tokenId}" \
  "DELETE /v1/account/consents/{consentId}/tokens/{tokenId}"; do
  consents+=(--impossible "$op")
done
"$venv/bin/python" "$here/coverage.py" "$work/openapi.json" "$LK_STATUS_FILE" "${consents[@]}" || status=1
exit "$status"
