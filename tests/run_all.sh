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

# PostgreSQL for the store tests (scripts/pg-test.sh starts it); they skip without it
if [ -z "${TOKENTAP_TEST_PG:-}" ] && [ "$(id -u)" -eq 0 ]; then
	if pgurl=$(scripts/pg-test.sh 2>"$log/pg-test.err"); then
		export TOKENTAP_TEST_PG=$pgurl
	else
		echo "PostgreSQL not started: $(tail -1 "$log/pg-test.err")"
	fi
fi

echo "== unit tests"
for t in "$BUILD"/tests/test_*; do
	[ -x "$t" ] || continue
	name=$(basename "$t")
	"$t" >"$log/$name.out" 2>&1
	rc=$?
	# a binary may run several groups (one per store backend): add them all up
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$log/$name.out" | awk '{s += $1} END {print s + 0}')
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$log/$name.out" | awk '{s += $1} END {print s + 0}')
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
# Runs one e2e runner and adds the counts of its closing line
# ("NAME: N passed, M failed, K skipped") to the totals.
e2e_suite() {
	local name=$1 out="$log/$1.out" rc line s
	shift
	env "$@" 2>&1 | tee "$out"
	rc=${PIPESTATUS[0]}
	line=$(grep -E "^$name: [0-9]+ passed, [0-9]+ failed" "$out" | tail -1)
	if [ -n "$line" ]; then
		passed=$((passed + $(echo "$line" | sed -E 's/^[^:]*: ([0-9]+) passed.*/\1/')))
		failed=$((failed + $(echo "$line" | sed -E 's/.* ([0-9]+) failed.*/\1/')))
		s=$(echo "$line" | sed -nE 's/.* ([0-9]+) skipped.*/\1/p')
		skipped=$((skipped + ${s:-0}))
	fi
	if [ "$rc" -ne 0 ] && { [ -z "$line" ] || echo "$line" | grep -q ' 0 failed'; }; then
		failed=$((failed + 1)) # the runner itself broke
	fi
}
e2e_suite e2e TOKENTAP_BIN="$BUILD/tokentap" python3 tests/e2e/run.py
e2e_suite e2e-rust TOKENTAP_BIN="$BUILD/tokentap" TOKENTAP_RUST_CLIENTS="$BUILD/rust-clients" python3 tests/e2e/run_rust.py
e2e_suite e2e-java TOKENTAP_BIN="$BUILD/tokentap" python3 tests/e2e/run_java.py
e2e_suite e2e-gate TOKENTAP_BIN="$BUILD/tokentap" TOKENTAP_TEST_HOOKS_BIN="$BUILD/tokentap-test-hooks" python3 tests/e2e/run_gate.py
e2e_suite e2e-collector TOKENTAP_BIN="$BUILD/tokentap" TOKENTAP_COLLECTOR_BIN="$BUILD/tokentap-collector" python3 tests/e2e/run_collector.py
e2e_suite e2e-caps TOKENTAP_BIN="$BUILD/tokentap" python3 tests/e2e/run_caps.py
e2e_suite e2e-drops TOKENTAP_BIN="$BUILD/tokentap" python3 tests/e2e/run_drops.py
e2e_suite e2e-image TOKENTAP_BIN="$BUILD/tokentap" BUILD="$BUILD" python3 tests/e2e/run_image.py
e2e_suite deploy BUILD="$BUILD" python3 tests/deploy/run.py
e2e_suite e2e-faults TOKENTAP_BIN="$BUILD/tokentap" TOKENTAP_TEST_HOOKS_BIN="$BUILD/tokentap-test-hooks" TOKENTAP_COLLECTOR_BIN="$BUILD/tokentap-collector" python3 tests/e2e/run_faults.py
e2e_suite e2e-kube TOKENTAP_BIN="$BUILD/tokentap" TOKENTAP_COLLECTOR_BIN="$BUILD/tokentap-collector" python3 tests/e2e/run_kube.py
e2e_suite e2e-risk TOKENTAP_BIN="$BUILD/tokentap" TOKENTAP_COLLECTOR_BIN="$BUILD/tokentap-collector" python3 tests/e2e/run_risk.py
e2e_suite e2e-coverage TOKENTAP_BIN="$BUILD/tokentap" TOKENTAP_COLLECTOR_BIN="$BUILD/tokentap-collector" python3 tests/e2e/run_coverage.py
# the collector and risk suites again with the collectors on PostgreSQL:
# replicas, failover of the leader, the same answers as SQLite
if [ -n "${TOKENTAP_TEST_PG:-}" ]; then
	e2e_suite e2e-collector-pg TOKENTAP_BIN="$BUILD/tokentap" TOKENTAP_COLLECTOR_BIN="$BUILD/tokentap-collector" TOKENTAP_COLLECTOR_PG="$TOKENTAP_TEST_PG" python3 tests/e2e/run_collector.py
	e2e_suite e2e-risk-pg TOKENTAP_BIN="$BUILD/tokentap" TOKENTAP_COLLECTOR_BIN="$BUILD/tokentap-collector" TOKENTAP_COLLECTOR_PG="$TOKENTAP_TEST_PG" python3 tests/e2e/run_risk.py
	e2e_suite e2e-coverage-pg TOKENTAP_BIN="$BUILD/tokentap" TOKENTAP_COLLECTOR_BIN="$BUILD/tokentap-collector" TOKENTAP_COLLECTOR_PG="$TOKENTAP_TEST_PG" python3 tests/e2e/run_coverage.py
elif [ -n "${TOKENTAP_REQUIRE_PG:-}" ]; then
	echo "FAIL PostgreSQL required (TOKENTAP_REQUIRE_PG=1) but scripts/pg-test.sh could not start it"
	failed=$((failed + 1))
fi
e2e_suite e2e-console TOKENTAP_BIN="$BUILD/tokentap" TOKENTAP_COLLECTOR_BIN="$BUILD/tokentap-collector" TOKENTAP_WEB_MODULES="$BUILD/web/node_modules" python3 tests/e2e/run_console.py
e2e_suite loadgen TOKENTAP_COLLECTOR_BIN="$BUILD/tokentap-collector" TOKENTAP_LOADGEN_BIN="$BUILD/bench/loadgen" python3 tests/e2e/run_loadgen.py

echo "tests: $passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
