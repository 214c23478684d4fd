#!/usr/bin/env bash
# The gate benchmark (make bench; BENCH_ONLY=gate): what --gate-exec adds to
# an exec, and how soon after a new TLS library is mapped its probes are
# attached (with and without --hold-unknown-tls).
#   - exec loop: GATE_EXECS runs of a decided program (a copy of /bin/true
#     run once first), with no sensor, the sensor, and the sensor with
#     --gate-exec, alternating in each of GATE_ROUNDS rounds; then
#     GATE_NEW_EXECS runs of a new copy each time, sensor without and with
#     the gate. Prints per-exec times, their ratios and the time added.
#   - library attach: GATE_LIBS new copies of libssl, each dlopen'ed by a
#     new process that keeps it mapped 50 ms; the sensor reports how many
#     were attached and the delay from the mapping to the probes attached
#     (lib_attach_*), with perf-event uprobes (the baseline), with
#     uprobe_multi links (Linux >= 6.6; ratio to the baseline) and with
#     --hold-unknown-tls, which also reports how long processes were held.
# Usage: tests/bench/gate_bench.sh BUILD_DIR   (as root)
set -euo pipefail

BUILD=${1:-build}
BENCH=$BUILD/bench
TOKENTAP=${TOKENTAP:-$BUILD/tokentap}
LIBSSL=${LIBSSL:-/usr/lib/x86_64-linux-gnu/libssl.so.3}
GATE_EXECS=${GATE_EXECS:-2000}
GATE_NEW_EXECS=${GATE_NEW_EXECS:-200}
GATE_LIBS=${GATE_LIBS:-200}
GATE_ROUNDS=${GATE_ROUNDS:-3}
READY_TIMEOUT=${READY_TIMEOUT:-60}

die() { echo "gate bench: $*" >&2; exit 1; }
[ "$(id -u)" -eq 0 ] || die "must run as root"
[ -x "$BENCH/exec_loop" ] || die "missing $BENCH/exec_loop (run: make bench)"
for n in GATE_EXECS GATE_NEW_EXECS GATE_LIBS GATE_ROUNDS; do
	[[ "${!n}" =~ ^[1-9][0-9]*$ ]] || die "$n must be a positive integer"
done

work=$(mktemp -d /tmp/tokentap-gate-bench.XXXXXX)
spid=""
stop_sensor() {
	if [ -n "$spid" ]; then
		kill -TERM "$spid" 2>/dev/null || true
		wait "$spid" 2>/dev/null || true
		spid=""
	fi
}
trap 'stop_sensor; rm -rf "$work"' EXIT

# start_sensor ARGS...: the sensor, printing JSON to $work/out.json, until ready.
start_sensor() {
	: >"$work/err.log"
	"$TOKENTAP" --json --state-dir "$work/state" --interval 3600 "$@" >"$work/out.json" 2>"$work/err.log" &
	spid=$!
	for _ in $(seq $((READY_TIMEOUT * 10))); do
		grep -q "tokentap: ready" "$work/err.log" && return 0
		kill -0 "$spid" 2>/dev/null || die "sensor exited: $(tail -2 "$work/err.log")"
		sleep 0.1
	done
	die "sensor not ready after ${READY_TIMEOUT}s"
}

# field NAME: NAME from the last sensor_status (the one at exit).
field() {
	grep '"sensor_status"' "$work/out.json" | tail -1 | python3 -c \
		"import json,sys; print(json.loads(sys.stdin.read()).get('$1', 'n/a'))"
}

per_run() { sed -n 's/.*per_run_us=\([0-9.]*\).*/\1/p'; }

known=$work/known_true
cp /bin/true "$known"
mkdir -p "$work/new" "$work/libs"

echo "== gate: exec loop ($GATE_EXECS execs of a decided program, $GATE_ROUNDS rounds)"
printf "%-6s %12s %12s %12s %14s %16s\n" round none_us sensor_us gate_us gate/sensor added_us
declare -a ratios added
for r in $(seq "$GATE_ROUNDS"); do
	"$known"
	none=$("$BENCH/exec_loop" exec "$known" "$GATE_EXECS" | per_run)
	start_sensor
	"$known"
	plain=$("$BENCH/exec_loop" exec "$known" "$GATE_EXECS" | per_run)
	stop_sensor
	start_sensor --gate-exec
	"$known" # decided from here on
	gate=$("$BENCH/exec_loop" exec "$known" "$GATE_EXECS" | per_run)
	stop_sensor
	ratio=$(python3 -c "print('%.3f' % ($gate / $plain))")
	add=$(python3 -c "print('%.1f' % ($gate - $plain))")
	ratios+=("$ratio") added+=("$add")
	printf "%-6s %12s %12s %12s %14s %16s\n" "$r" "$none" "$plain" "$gate" "$ratio" "$add"
done
median() { printf "%s\n" "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "gate exec ratio (median, gate/sensor): $(median "${ratios[@]}"); added per exec of a decided file: $(median "${added[@]}") us"

echo "== gate: new programs ($GATE_NEW_EXECS execs, each a new copy of /bin/true)"
start_sensor
plain_new=$("$BENCH/exec_loop" exec-new "$known" "$work/new" "$GATE_NEW_EXECS" | per_run)
stop_sensor
start_sensor --gate-exec
gate_new=$("$BENCH/exec_loop" exec-new "$known" "$work/new" "$GATE_NEW_EXECS" | per_run)
stop_sensor
echo "new program: sensor ${plain_new} us, with gate ${gate_new} us per exec; added $(python3 -c "print('%.1f' % ($gate_new - $plain_new))") us;" \
	"gate_timeouts=$(field gate_timeouts) gate_wait_max_us=$(field gate_wait_max_us)"

[ -r "$LIBSSL" ] || die "missing $LIBSSL"
echo "== library attach ($GATE_LIBS new copies of $(basename "$LIBSSL"), each dlopen'ed by a new process)"
# lib_run LABEL ARGS...: one sensor run of the dlopen workload; prints its figures and
# sets p50/p99 (us) for the ratios below.
lib_run() {
	local label=$1
	shift
	start_sensor "$@"
	"$BENCH/exec_loop" dlopen "$LIBSSL" "$work/libs" "$GATE_LIBS" >/dev/null
	stop_sensor
	p50=$(field lib_attach_p50_us) p99=$(field lib_attach_p99_us)
	printf "%-28s attached %4s of %s  p50=%7s us  p99=%7s us  max=%7s us\n" "$label" \
		"$(field lib_attach_count)" "$GATE_LIBS" "$p50" "$p99" "$(field lib_attach_max_us)"
}
ratio() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print('%.2f' % (a / b) if b else 'n/a')" "$1" "$2"; }
lib_run "perf-event uprobes" --uprobe-attach perf
base50=$p50 base99=$p99
if [ "$(uname -r | awk -F. '{print ($1 > 6 || ($1 == 6 && $2 >= 6))}')" = 1 ]; then
	lib_run "uprobe_multi links" --uprobe-attach multi
	echo "uprobe_multi / perf-event: p50 $(ratio "$p50" "$base50"), p99 $(ratio "$p99" "$base99")"
fi
lib_run "--hold-unknown-tls" --hold-unknown-tls
echo "held: count=$(field hold_count) p50=$(field hold_p50_us) us p99=$(field hold_p99_us) us" \
	"max=$(field hold_max_us) us; continued by the watchdog (hold_timeouts)=$(field hold_timeouts)"
