#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Long fuzzing with a kept corpus.
# Usage: tests/fuzz/run_long.sh SECONDS JOBS BIN...
# Each fuzz_<name> runs SECONDS on a copy of tests/fuzz/corpus/<name>, JOBS
# targets at a time. Afterwards the corpus is minimized back into
# tests/fuzz/corpus/<name> (libFuzzer -set_cover_merge=1): the named seeds
# and a smallest set of inputs covering every feature found, not everything
# the run tried. Prints one line per target with executions, coverage (cov) and features (ft); exits
# non-zero if any target crashed (log and crashing input kept, path printed).
set -u

if [ $# -lt 3 ] || ! [[ $1 =~ ^[0-9]+$ ]] || ! [[ $2 =~ ^[1-9][0-9]*$ ]]; then
	echo "usage: $0 SECONDS JOBS BIN..." >&2
	exit 2
fi
seconds=$1 jobs=$2
shift 2
here=$(cd "$(dirname "$0")" && pwd)
results=$(mktemp -d "${TMPDIR:-/tmp}/tokentap-fuzz-long.XXXXXX")

# Replaces the generated inputs of the kept corpus (named by their sha1)
# with a smallest set covering every feature of the kept and new inputs
# (libFuzzer -set_cover_merge); the named seeds stay as they are.
minimize() {
	local bin=$1 kept=$2 work=$3 f sum
	mkdir -p "$work/min"
	"$bin" -set_cover_merge=1 -max_len=65536 -timeout=25 "$work/min" "$kept" "$work/corpus" \
		>"$work/merge.log" 2>&1 || return 0
	find "$kept" -type f -regextype posix-extended -regex '.*/[0-9a-f]{40}' -delete
	for f in "$kept"/*; do
		[ -f "$f" ] || continue
		sum=$(sha1sum "$f" | cut -d' ' -f1)
		rm -f "$work/min/$sum"   # a seed's own copy
	done
	cp "$work/min/"* "$kept/" 2>/dev/null
	return 0
}
export -f minimize

one() {
	local bin=$1 base name work kept rc runs cov ft crash before after
	base=$(basename "$bin")
	name=${base#fuzz_}
	if [ ! -x "$bin" ]; then
		echo "fuzz-long $name: FAILED (no executable $bin)" >"$results/$name"
		return
	fi
	kept="$here/corpus/$name"
	mkdir -p "$kept"
	work=$(mktemp -d "${TMPDIR:-/tmp}/tokentap-fuzz-long-$name.XXXXXX")
	mkdir -p "$work/corpus"
	cp -R "$kept/." "$work/corpus/"
	"$bin" -max_total_time="$seconds" -max_len=65536 -timeout=25 \
		-artifact_prefix="$work/" -print_final_stats=1 "$work/corpus" >"$work/log" 2>&1
	rc=$?
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
	# the last status line ("#N ... cov: C ft: F corp: ...") holds the totals
	cov=$(grep -o 'cov: [0-9]*' "$work/log" | tail -n 1 | cut -d' ' -f2)
	ft=$(grep -o 'ft: [0-9]*' "$work/log" | tail -n 1 | cut -d' ' -f2)
	if [ $rc -ne 0 ]; then
		crash=$(ls "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-* 2>/dev/null | head -n 1)
		echo "fuzz-long $name: FAILED (exit $rc) log $work/log${crash:+ input $crash}" >"$results/$name"
		return
	fi
	before=$(find "$kept" -type f | wc -l)
	minimize "$bin" "$kept" "$work"
	after=$(find "$kept" -type f | wc -l)
	echo "fuzz-long $name: ok, ${runs:-?} runs in ${seconds}s, cov ${cov:-?} ft ${ft:-?}, kept corpus $before -> $after inputs" >"$results/$name"
	rm -rf "$work"
}
export -f one
export here seconds results

printf '%s\n' "$@" | xargs -P "$jobs" -I{} bash -c 'one "$1"' _ {}
cat "$results"/*
failed=0
grep -q FAILED "$results"/* && failed=1
rm -rf "$results"
exit $failed
