#!/usr/bin/env bash
# Checks a running chat API end to end: GET /ping, POST /api/send, GET /api/pull returns
# the message just sent. Usage: k8s/smoke-test.sh [BASE_URL]   (default http://localhost)
# Retries until SMOKE_TIMEOUT_SECONDS (default 120) while the deployment settles.
set -euo pipefail

base=${1:-${BASE_URL:-http://localhost}}
base=${base%/}
deadline=$((SECONDS + ${SMOKE_TIMEOUT_SECONDS:-120}))

fail() { echo "smoke test FAILED: $*" >&2; exit 1; }

# get_ok URL...: curl that retries until a 2xx answer or the deadline.
get_ok() {
  local body
  until body=$(curl -fsS --max-time 5 "$@" 2>&1); do
    ((SECONDS < deadline)) || fail "$* -> $body"
    sleep 2
  done
  printf '%s' "$body"
}

ping=$(get_ok "$base/ping")
[[ $ping == *'"pong"'* ]] || fail "GET /ping answered $ping"
echo "GET /ping: $ping"

run="$(date +%s)-$$-$RANDOM"
chat="smoke:run-$run"
text="smoke test $run"
sent=$(get_ok -X POST -H 'content-type: application/json' \
  -d "{\"chat\":\"$chat\",\"text\":\"$text\",\"sender\":\"smoke\",\"client_message_id\":\"$run\"}" \
  "$base/api/send")
[[ $sent == *'"status":"success"'* ]] || fail "POST /api/send answered $sent"
echo "POST /api/send: $sent"

pulled=$(get_ok --get --data-urlencode "chat=$chat" --data-urlencode "cursor=0" "$base/api/pull")
[[ $pulled == *"\"text\":\"$text\""* ]] || fail "GET /api/pull did not return the message: $pulled"
echo "GET /api/pull: $pulled"
echo "smoke test passed against $base"
