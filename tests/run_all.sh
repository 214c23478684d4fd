#!/usr/bin/env bash
# Runs every suite: unit tests (ASan/UBSan), a short fuzz pass, end-to-end
# tests with the sensor loaded. Prints one closing line with the totals.
set -uo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
passed=0 failed=0 skipped=0
log=$(mktemp -d)
trap 'rm -rf "$log"' EXIT

echo "== unit tests"
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	"$t" >"$log/$name.out" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log/$name.out" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log/$name.out" | tail -1)
	p=${p:-0} f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi # crashed or sanitizer abort
	passed=$((passed + p)) failed=$((failed + f))
	if [ "$f" -ne 0 ]; then
		echo "FAIL $name"
		cat "$log/$name.out"
	else
		echo "ok   $name ($p)"
	fi
done

echo "== fuzz (${FUZZ_SECONDS}s per target)"
fuzzers=("$BUILD"/fuzz/fuzz_*)
if [ -x "${fuzzers[0]}" ]; then
	if tests/fuzz/run.sh "$FUZZ_SECONDS" "${fuzzers[@]}"; then
		passed=$((passed + ${#fuzzers[@]}))
	else
		failed=$((failed + 1))
	fi
fi

echo "== end-to-end"
TOKENTAP_BIN="$BUILD/tokentap" python3 tests/e2e/run.py 2>&1 | tee "$log/e2e.out"
e2e_rc=${PIPESTATUS[0]}
line=$(grep -E '^e2e: [0-9]+ passed, [0-9]+ failed' "$log/e2e.out" | tail -1)
if [ -n "$line" ]; then
	passed=$((passed + $(echo "$line" | sed -E 's/^e2e: ([0-9]+) passed.*/\1/')))
	failed=$((failed + $(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
	s=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
	skipped=$((skipped + ${s:-0}))
fi
if [ "$e2e_rc" -ne 0 ] && { [ -z "$line" ] || echo "$line" | grep -q ' 0 failed'; }; then
	failed=$((failed + 1)) # the runner itself broke
fi

echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
