#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Runs libFuzzer targets for a fixed time each.
# Usage: tests/fuzz/run.sh SECONDS BIN...
# Each fuzz_<name> starts from tests/fuzz/corpus/<name>, copied to a temporary
# directory so new inputs never land in the repository. Prints one line per
# target; exits non-zero if any target crashed (the log and the crashing
# input are kept and their path printed).
set -u

if [ $# -lt 2 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
	echo "usage: $0 SECONDS BIN..." >&2
	exit 2
fi
seconds=$1
shift
here=$(cd "$(dirname "$0")" && pwd)
failed=0

for bin in "$@"; do
	base=$(basename "$bin")
	name=${base#fuzz_}
	if [ ! -x "$bin" ]; then
		echo "fuzz $name: FAILED (no executable $bin)"
		failed=1
		continue
	fi
	work=$(mktemp -d "${TMPDIR:-/tmp}/tokentap-fuzz-$name.XXXXXX")
	mkdir -p "$work/corpus"
	if [ -d "$here/corpus/$name" ]; then
		cp -R "$here/corpus/$name/." "$work/corpus/"
	fi
	"$bin" -max_total_time="$seconds" -max_len=65536 -timeout=25 \
		-artifact_prefix="$work/" -print_final_stats=1 "$work/corpus" >"$work/log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
	if [ $rc -eq 0 ]; then
		echo "fuzz $name: ok, ${runs:-?} runs in ${seconds}s, corpus $(ls "$work/corpus" | wc -l) inputs"
		rm -rf "$work"
	else
		crash=$(ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null | head -n 1)
		echo "fuzz $name: FAILED (exit $rc) log $work/log${crash:+ input $crash}"
		failed=1
	fi
done
exit $failed
