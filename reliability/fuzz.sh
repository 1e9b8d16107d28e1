#!/usr/bin/env bash
# Fuzzes Sluice's parsers with libFuzzer for a fixed budget (issue 21):
#   reliability/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]
# Targets: json (parser + writer round trip), jsonpath (parse, evaluate, assign), intrinsic (a .$
# expression run by the interpreter with its bounds), machine (a whole States Language
# definition run in memory), template (Mender's ${...} scanner and renderer), yaml (the
# definition loader: its limits, then Yams over libyaml).
#
# Builds reliability/build/fuzz/sluice-fuzz from the sources with swiftc -sanitize=fuzzer,address
# (libyaml with clang -fsanitize=fuzzer-no-link,address), seeds each run from
# reliability/fuzz/seeds/TARGET, and prints one line per target:
#   FUZZ target=json seconds=20 executions=123456 crashes=0 corpus=210
# A crash, sanitizer report, timeout (10 s for one input) or out-of-memory (2 GB) is kept in
# reliability/fuzz/crashes/TARGET/ and makes the exit status 1.
set -uo pipefail
cd "$(dirname "$0")/.."
BUDGET=${1:-20}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(json jsonpath intrinsic machine template yaml)
OUT=reliability/build/fuzz
YAMS=.build/checkouts/Yams/Sources
mkdir -p "$OUT/src" "$OUT/obj" "$OUT/mod"

SOURCES=(Sources/SluiceStates/*.swift Sources/SluiceCore/TaskList/Template.swift Sources/SluiceCore/Support/JSON+Foundation.swift
         Sources/SluiceCore/Documents/Document.swift Sources/SluiceCore/Documents/YAMLBudget.swift
         Sources/SluiceCore/Documents/DocumentLimits.swift reliability/fuzz/FuzzMain.swift)
BINARY=$OUT/sluice-fuzz

# Rebuild when a source is newer than the binary.
stale=1
if [ -x "$BINARY" ]; then
  stale=0
  for file in "${SOURCES[@]}" "$0"; do [ "$file" -nt "$BINARY" ] && stale=1; done
fi
if [ $stale = 1 ]; then
  if [ ! -d "$YAMS/CYaml" ]; then
    echo "fuzz: Yams is not checked out (run swift build first)" >&2; exit 2
  fi
  echo "fuzz: building $BINARY"
  started=$SECONDS
  rm -f "$OUT"/obj/*.o "$OUT"/src/*.swift
  for c in "$YAMS"/CYaml/src/*.c; do
    clang -c -O1 -g -fsanitize=fuzzer-no-link,address -DYAML_DECLARE_STATIC -I"$YAMS/CYaml/include" \
      "$c" -o "$OUT/obj/cyaml-$(basename "$c" .c).o" || exit 2
  done
  swiftc -parse-as-library -module-name Yams -emit-module -emit-module-path "$OUT/mod/Yams.swiftmodule" \
    -I "$YAMS/CYaml/include" -Xcc -DYAML_DECLARE_STATIC -D SWIFT_PACKAGE -sanitize=fuzzer,address -O -wmo \
    -c "$YAMS"/Yams/*.swift -o "$OUT/obj/yams.o" 2>&1 | grep -v "warning:" || true
  [ -f "$OUT/obj/yams.o" ] || { echo "fuzz: building Yams failed" >&2; exit 2; }
  # One module: the sources' imports of each other go; the rest compile as they are.
  for file in "${SOURCES[@]}"; do
    sed -e '/^import SluiceStates$/d' -e 's/SluiceStates\.//g' -e 's/^internal import CYaml$/import CYaml/' "$file" > "$OUT/src/$(basename "$file")"
  done
  swiftc -parse-as-library -module-name SluiceFuzz -sanitize=fuzzer,address -O \
    -I "$OUT/mod" -I "$YAMS/CYaml/include" -Xcc -DYAML_DECLARE_STATIC \
    "$OUT"/src/*.swift "$OUT"/obj/*.o -o "$BINARY" 2>&1 | grep -E "error" ; 
  [ -x "$BINARY" ] && [ "$BINARY" -nt "$OUT/obj/yams.o" ] || { echo "fuzz: building the fuzzer failed" >&2; exit 2; }
  echo "fuzz: built in $((SECONDS - started)) s"
fi

status=0
for target in "${TARGETS[@]}"; do
  corpus=$OUT/corpus/$target
  crashes=reliability/fuzz/crashes/$target
  mkdir -p "$corpus" "$crashes"
  log=$OUT/$target.log
  # The seeds are read, never written: new inputs go to the build folder's corpus. Inputs that
  # crashed an earlier run are read again first, so a fix is checked and a regression shows.
  # The Swift runtime's backtracer would read freed memory under ASan and bury the report.
  SWIFT_BACKTRACE=enable=no SLUICE_FUZZ_TARGET=$target timeout $((BUDGET + 120)) "$BINARY" "$corpus" "reliability/fuzz/seeds/$target" "$crashes" \
    -max_total_time="$BUDGET" -timeout=10 -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$crashes/" > "$log" 2>&1 < /dev/null
  code=$?
  executions=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' | tail -1)
  kept=$(ls "$crashes" | wc -l)
  new=0
  if [ $code -ne 0 ]; then
    new=1
    status=1
    echo "# fuzz $target exited $code; report:"
    grep -E "ERROR|SUMMARY|Fatal error|fatal error|panic|==[0-9]+==|Test unit written|deadly signal" "$log" | head -20
    newest=$(ls -t "$crashes" | head -1)
    [ -n "$newest" ] && echo "# input $crashes/$newest: $(head -c 300 "$crashes/$newest" | cat -v | tr '\n' '~')"
  fi
  echo "FUZZ target=$target seconds=$BUDGET executions=${executions:-?} crashes=$new crash_inputs_kept=$kept corpus=$(ls "$corpus" | wc -l)"
done
exit $status
