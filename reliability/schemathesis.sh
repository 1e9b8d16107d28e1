#!/usr/bin/env bash
# Schemathesis over the served OpenAPI file (issue 21): starts `sluice serve` on a temporary
# database and a free port, with a token, and runs every schemathesis check against every
# operation in /v1/openapi.yaml with a fixed number of examples and a fixed seed.
#
#   reliability/schemathesis.sh [--binary PATH] [--examples N] [--seed N]
#
# Run from anywhere; paths are relative to the repository. Creates .venv (schemathesis pinned)
# if it is missing; builds the debug binary if no --binary is given and none exists.
# Prints one SCHEMATHESIS line of figures: operations selected and tested, test cases, failures,
# 5xx answers (counted from the requests' log), and whether the server survived; exits 1 on
# any failure, any 5xx, or a server that died.
#
# Settings the schema cannot say live in the generated config, each with its reason:
# - claimActivity long-polls up to waitSeconds (≤ 60 s) by design: fuzzed with waitSeconds 0;
# - a well-formed task token of no claimed task is 410 (lease lost), as documented;
# - uploadDefinition's body is a workflow or a state machine, whose rules (tasks, states,
#   transitions) no JSON schema here states: a schema-valid object may be refused with a 400,
#   so positive_data_acceptance is off for it; every other check still runs on it.
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
binary=""
examples=25
seed=21
while [ $# -gt 0 ]; do
    case "$1" in
        --binary) binary="$2"; shift 2 ;;
        --examples) examples="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        *) echo "usage: $0 [--binary PATH] [--examples N] [--seed N]" >&2; exit 2 ;;
    esac
done

venv="$root/.venv"
if [ ! -x "$venv/bin/schemathesis" ] || ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet "schemathesis==$SCHEMATHESIS_VERSION"
fi

if [ -z "$binary" ]; then
    binary="$root/.build/debug/sluice"
    [ -x "$binary" ] || (cd "$root" && swift build --product sluice)
fi

work="$(mktemp -d /tmp/sluice-schemathesis.XXXXXX)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
token="schemathesis-$$"
"$binary" serve --db "$work/sluice.sqlite" --listen "127.0.0.1:$port" --token "$token" >"$work/serve.log" 2>&1 &
server=$!
cleanup() {
    kill "$server" 2>/dev/null || true
    wait "$server" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/v1/health" -o /dev/null && break
    kill -0 "$server" 2>/dev/null || { cat "$work/serve.log" >&2; echo "sluice serve did not start" >&2; exit 1; }
    sleep 0.1
done

cat >"$work/schemathesis.toml" <<'EOF'
[[operations]]
include-operation-id = "claimActivity"
parameters = { "waitSeconds" = 0 }

[[operations]]
include-operation-id = ["heartbeatActivity", "activitySucceeded", "activityFailed"]
checks.positive_data_acceptance.expected-statuses = ["2xx", 410]

[[operations]]
include-operation-id = "uploadDefinition"
checks.positive_data_acceptance.enabled = false
EOF

set +e
(cd "$work" && "$venv/bin/schemathesis" --config-file "$work/schemathesis.toml" run "http://127.0.0.1:$port/v1/openapi.yaml" \
    -H "Authorization: Bearer $token" --max-examples "$examples" --seed "$seed" --request-timeout 30 \
    --report har --report-har-path "$work/requests.har" --output-truncate true) >"$work/output.txt" 2>&1
status=$?
set -e
alive=1
kill -0 "$server" 2>/dev/null || alive=0

python3 - "$work/output.txt" "$work/requests.har" "$status" "$alive" <<'EOF'
import json, re, sys
output, har, status, alive = open(sys.argv[1]).read(), sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
def figure(pattern, default="?"):
    match = re.search(pattern, output)
    return match.group(1) if match else default
selected = figure(r"Selected: (\d+)/\d+")
tested = figure(r"Tested: (\d+)")
cases = figure(r"(\d+) generated")
failures = figure(r"found (\d+) unique failures", "0")
requests = server_errors = 0
try:
    entries = json.load(open(har))["log"]["entries"]
    requests = len(entries)
    server_errors = sum(1 for entry in entries if entry["response"]["status"] >= 500)
except (OSError, ValueError, KeyError):
    pass
failed = status != 0 or server_errors > 0 or not alive
if failed:
    print(output)
print(f"SCHEMATHESIS operations={selected} tested={tested} test_cases={cases} requests={requests} "
      f"failures={failures} server_errors_5xx={server_errors} server_alive={'yes' if alive else 'no'} "
      f"exit={status}")
sys.exit(1 if failed else 0)
EOF
