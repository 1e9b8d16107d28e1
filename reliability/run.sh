#!/usr/bin/env bash
# The reliability suite of issue 21, in two sizes:
#   reliability/run.sh short [BINARY]   inside `make test` (a few minutes, debug binary)
#   reliability/run.sh full  [BINARY]   `make reliability` (release binary, about an hour)
# Parts: SIGKILL loops under HTTP load (serve, and server + worker), a power cut that drops
# unsynced writes (LD_PRELOAD recorder), disk full on a small tmpfs (root or sudo only), the
# malformed-request corpus (a Swift test; in the short form it already ran in `swift test`),
# schemathesis over the served OpenAPI file (full form), and libFuzzer over the parsers.
# Each part prints one line of figures (KILLLOOP, POWERCUT, DISKFULL, CORPUS, SCHEMATHESIS,
# FUZZ); the summary repeats them. Exit status: 1 if any part failed.
set -uo pipefail
cd "$(dirname "$0")/.."
SIZE=${1:-short}
case "$SIZE" in
  short) BIN=${2:-.build/debug/sluice} ;;
  full) BIN=${2:-.build/release/sluice} ;;
  *) echo "usage: $0 short|full [BINARY]" >&2; exit 2 ;;
esac
[ -x "$BIN" ] || { echo "reliability: no binary at $BIN (build it first)" >&2; exit 2; }
PY=$(command -v python3 || true)
[ -n "$PY" ] || { echo "reliability: python3 is needed" >&2; exit 2; }
LOG_DIR=${RELIABILITY_LOGS:-$(mktemp -d /tmp/sluice-reliability-XXXXXX)}
mkdir -p "$LOG_DIR"
declare -a RESULTS=()
FAILED=0

# run NAME COMMAND...: runs one part, keeps its output, records its figures and status.
run() {
  local name=$1; shift
  local log="$LOG_DIR/$name.log" started=$SECONDS status
  if [ ! -f "${2:-}" ] && [ ! -f "${1:-}" ] && [[ "${2:-}" == reliability/* || "${1:-}" == reliability/* ]]; then
    RESULTS+=("FAIL $name: ${2:-$1} is missing"); FAILED=1; return
  fi
  echo "== $name: $*"
  "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  local figures
  figures=$(grep -E '^(KILLLOOP|POWERCUT|DISKFULL|CORPUS|SCHEMATHESIS|FUZZ|SKIP) ' "$log" | tr '\n' ';')
  if [ "$status" -eq 0 ]; then
    RESULTS+=("PASS $name ($((SECONDS - started)) s) $figures")
  else
    RESULTS+=("FAIL $name ($((SECONDS - started)) s, exit $status) $figures")
    FAILED=1
  fi
}

if [ "$SIZE" = short ]; then
  run killloop-serve "$PY" reliability/killloop.py --binary "$BIN" --mode serve --executions 500 --kills 3 --hostile 5
  run killloop-split "$PY" reliability/killloop.py --binary "$BIN" --mode split --executions 500 --kills 3
  run powercut "$PY" reliability/powercut.py --binary "$BIN" --executions 150 --cuts 20
  run diskfull "$PY" reliability/diskfull.py --binary "$BIN"
  run fuzz bash reliability/fuzz.sh 20
else
  run killloop-serve "$PY" reliability/killloop.py --binary "$BIN" --mode serve --executions 10000 --kills 20 --max-gap 6 --hostile 20
  run killloop-split "$PY" reliability/killloop.py --binary "$BIN" --mode split --executions 10000 --kills 20 --max-gap 6 --hostile 20
  run powercut "$PY" reliability/powercut.py --binary "$BIN" --executions 1000 --cuts 180
  run diskfull "$PY" reliability/diskfull.py --binary "$BIN"
  run corpus swift test --skip-build --filter MalformedCorpusTests
  run schemathesis bash reliability/schemathesis.sh --binary "$BIN" --examples 100
  run fuzz bash reliability/fuzz.sh 300
fi

echo
echo "== reliability ($SIZE, $BIN) — logs in $LOG_DIR"
for line in "${RESULTS[@]}"; do echo "$line"; done
exit $FAILED
