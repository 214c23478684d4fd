#!/usr/bin/env bash
# Benchmark runner for `make bench`: runs each sensor workload with no sensor,
# with a floor BPF program, and with tokentap, alternating the modes in every
# round, then prints per-round figures, per-pair ratios and their medians;
# the Go TLS (go-tls) and HTTP/2 (h2) workloads likewise; then the
# collector's ingest rate and the end-to-end latency.
# Usage: tests/bench/run.sh [BUILD_DIR]    (as root; see tests/bench/README.md)
set -euo pipefail

BUILD=${1:-build}
BENCH=$BUILD/bench
ROUNDS=${ROUNDS:-7}
TLS_REQUESTS=${TLS_REQUESTS:-20000}
WRITES=${WRITES:-1000000}
BENCH_CPU=${BENCH_CPU:-0}
GO_REQUESTS=${GO_REQUESTS:-$TLS_REQUESTS}
H2_REQUESTS=${H2_REQUESTS:-5000}
NODE=${NODE:-$(command -v node || true)}
# The Go benchmarks run by default only where their workload could be built.
if [ -z "${BENCH_ONLY:-}" ]; then
	BENCH_ONLY=tls,tls-tp,write,write-tls
	if [ -x "$BENCH/go_tls_client" ]; then
		BENCH_ONLY+=,go-tls
		if [ -n "$NODE" ]; then BENCH_ONLY+=,h2; else echo "bench: node not found: h2 left out" >&2; fi
	else
		echo "bench: Go not installed ($BENCH/go_tls_client not built): go-tls and h2 left out" >&2
	fi
	BENCH_ONLY+=,replay,rss,drops,ingest,latency,fleet,query,gate
fi
INGEST_BATCHES=${INGEST_BATCHES:-200}
INGEST_EVENTS=${INGEST_EVENTS:-1000}
INGEST_TOKENS=${INGEST_TOKENS:-100}
INGEST_RUNS=${INGEST_RUNS:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
TOKENTAP=${TOKENTAP:-$BUILD/tokentap}
LIBSSL=${LIBSSL:-/usr/lib/x86_64-linux-gnu/libssl.so.3}
READY_TIMEOUT=${READY_TIMEOUT:-60}
SETTLE=${SETTLE:-0.2}
read -r -a TOKENTAP_EXTRA <<<"${TOKENTAP_ARGS:-}"
read -r -a REPLAY_EXTRA <<<"${REPLAY_ARGS:-}"

die() { echo "bench: $*" >&2; exit 1; }
# selected NAME: true when NAME is in BENCH_ONLY.
selected() { [[ ",$BENCH_ONLY," == *,$1,* ]]; }

for b in ${BENCH_ONLY//,/ }; do
	case $b in tls | tls-tp | tls-entry | write | write-tls | go-tls | go-tls-tp | h2 | h2-tp | replay | rss | drops | ingest | \
		latency | fleet | query | gate) ;;
	*) die "unknown benchmark in BENCH_ONLY: $b" ;;
	esac
done
# any_selected NAME...: true when one of them is in BENCH_ONLY.
any_selected() {
	local b
	for b; do selected "$b" && return 0; done
	return 1
}
if any_selected tls tls-tp tls-entry write write-tls go-tls go-tls-tp h2 h2-tp latency rss drops; then
	[ "$(id -u)" -eq 0 ] || die "must run as root (BPF programs are loaded)"
	[ -x "$TOKENTAP" ] || die "missing $TOKENTAP (run: make all)"
fi
for n in ROUNDS TLS_REQUESTS WRITES GO_REQUESTS H2_REQUESTS INGEST_BATCHES INGEST_EVENTS INGEST_TOKENS INGEST_RUNS; do
	[[ "${!n}" =~ ^[1-9][0-9]*$ ]] || die "$n must be a positive integer"
done
if any_selected tls tls-tp tls-entry write write-tls; then
	for bin in tls_client tls_server write_load empty_uprobe write_floor; do
		[ -x "$BENCH/$bin" ] || die "missing $BENCH/$bin (run: make bench)"
	done
	[ -r "$LIBSSL" ] || die "missing $LIBSSL"
	command -v openssl >/dev/null || die "openssl CLI not found"
fi
if any_selected go-tls go-tls-tp h2 h2-tp; then
	[ -x "$BENCH/go_tls_client" ] || die "missing $BENCH/go_tls_client (install golang-go, run: make bench)"
	command -v openssl >/dev/null || die "openssl CLI not found"
fi
if any_selected go-tls go-tls-tp; then
	for bin in tls_server empty_uprobe; do
		[ -x "$BENCH/$bin" ] || die "missing $BENCH/$bin (run: make bench)"
	done
fi
if any_selected h2 h2-tp; then
	[ -n "$NODE" ] || die "node not found (the h2 benchmark's server is tests/e2e/h2_server.js)"
fi
if selected replay; then
	[ -x "$BENCH/replay_bench" ] || die "missing $BENCH/replay_bench (run: make bench)"
	[ -z "${REPLAY_BASELINE:-}" ] || [ -x "$REPLAY_BASELINE" ] ||
		die "REPLAY_BASELINE: $REPLAY_BASELINE is not an executable replay_bench"
fi
if selected ingest; then
	[ -x "$BENCH/ingest_bench" ] || die "missing $BENCH/ingest_bench (run: make bench)"
fi
if selected latency || selected fleet; then
	[ -x "$BUILD/tokentap-collector" ] || die "missing $BUILD/tokentap-collector (run: make all)"
	command -v python3 >/dev/null || die "python3 not found"
fi
if selected fleet; then
	[ -x "$BENCH/loadgen" ] || die "missing $BENCH/loadgen (run: make bench)"
fi
if selected query; then
	[ -x "$BENCH/query_bench" ] || die "missing $BENCH/query_bench (run: make bench)"
fi

# Workloads (client and server alike) share one CPU: on small VMs a
# cross-CPU wakeup costs more than the request itself and drowns the probes.
PIN=()
if [ "$BENCH_CPU" != none ]; then
	command -v taskset >/dev/null || die "taskset not found (or set BENCH_CPU=none)"
	PIN=(taskset -c "$BENCH_CPU")
fi

TMP=$(mktemp -d /tmp/tokentap-bench.XXXXXX)
SENSOR_PID=
SERVER_PID=
# extra --probe arguments of the empty-uprobe floor (the Go benchmark's Write)
EMPTY_EXTRA=()
# shellcheck disable=SC2317  # called through the EXIT trap
cleanup() {
	set +e
	if [ -n "$SENSOR_PID" ]; then kill -KILL "$SENSOR_PID" 2>/dev/null; fi
	if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null; fi
	# the rss load's clients exit with it (its hold pipe closes)
	if [ -n "${LOAD_PID:-}" ]; then kill -TERM "$LOAD_PID" 2>/dev/null; fi
	wait 2>/dev/null
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

CLK_TCK=$(getconf CLK_TCK)
TAP_RUNS=0
TAP_LINES=0

# CPU time (utime+stime, in clock ticks) a process has used so far.
cpu_ticks() {
	awk '{ sub(/^.*\) /, ""); print $12 + $13 }' "/proc/$1/stat"
}

# True while PID runs; an exited child stays a zombie until waited for, and
# kill -0 would still succeed on it.
alive() {
	local state
	state=$(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$state" ] && [ "$state" != Z ]
}

# start_sensor MODE BENCH: load the sensor of MODE and wait until it is ready.
start_sensor() {
	local mode=$1 name=$2 err=$TMP/sensor.err pattern
	# Background jobs of a script start with SIGINT ignored, and an ignored
	# signal never reaches a handler or a signalfd: restore it.
	local run=(env --default-signal=INT)
	SENSOR_PID=
	case $mode in
	none) return 0 ;;
	empty) "${run[@]}" "$BENCH/empty_uprobe" --lib "$LIBSSL" "${EMPTY_EXTRA[@]}" 2>"$err" &
		pattern='empty_uprobe: ready' ;;
	# the same empty program where tokentap probes: its own choice of call site
	callsite) "${run[@]}" "$BENCH/empty_uprobe" --lib "${EMPTY_LIB:-$LIBSSL}" --call-site \
		"${EMPTY_EXTRA[@]}" 2>"$err" &
		pattern='empty_uprobe: ready' ;;
	# and empty programs on the syscall tracepoints tokentap enables
	callsite-tp) "${run[@]}" "$BENCH/empty_uprobe" --lib "${EMPTY_LIB:-$LIBSSL}" --call-site \
		--syscalls "${EMPTY_EXTRA[@]}" 2>"$err" &
		pattern='empty_uprobe: ready' ;;
	floor) "${run[@]}" "$BENCH/write_floor" 2>"$err" & pattern='write_floor: ready' ;;
	tokentap)
		TAP_RUNS=$((TAP_RUNS + 1))
		"${run[@]}" "$TOKENTAP" --json --state-dir "$TMP/state" "${TOKENTAP_EXTRA[@]}" \
			>"$TMP/tokentap.$name.$TAP_RUNS.json" 2>"$err" &
		pattern='tokentap: ready' ;;
	esac
	SENSOR_PID=$!
	local deadline=$((SECONDS + READY_TIMEOUT))
	until grep -q "$pattern" "$err" 2>/dev/null; do
		if ! alive "$SENSOR_PID" || [ $SECONDS -ge $deadline ]; then
			echo "bench: $mode did not get ready; the end of its stderr:" >&2
			tail -n 40 "$err" | sed 's/^/  | /' >&2
			exit 1
		fi
		sleep 0.05
	done
	# Let start-up work that follows "ready" finish before timing.
	sleep "$SETTLE"
}

# wait_exit PID SECONDS: true once PID has exited, false on timeout.
wait_exit() {
	local deadline=$((SECONDS + $2))
	while alive "$1"; do
		[ $SECONDS -lt $deadline ] || return 1
		sleep 0.02
	done
}

# SIGINT first, as a user would stop it; escalate only if it hangs.
stop_sensor() {
	[ -n "$SENSOR_PID" ] || return 0
	kill -INT "$SENSOR_PID" 2>/dev/null || true
	if ! wait_exit "$SENSOR_PID" 5; then
		echo "bench: sensor ignored SIGINT, sending SIGTERM" >&2
		kill -TERM "$SENSOR_PID" 2>/dev/null || true
		wait_exit "$SENSOR_PID" 3 || kill -KILL "$SENSOR_PID" 2>/dev/null || true
	fi
	wait "$SENSOR_PID" 2>/dev/null || true
	SENSOR_PID=
}

# run_mode BENCH MODE: one timed run; sets RUN_NS (ns per operation) and
# RUN_CPU_MS (sensor CPU time during the run).
run_mode() {
	local name=$1 mode=$2 out t0=0 t1=0
	start_sensor "$mode" "$name"
	[ -n "$SENSOR_PID" ] && t0=$(cpu_ticks "$SENSOR_PID")
	# NAME-tp runs NAME's workload against another floor
	case ${name%-tp} in
	tls | tls-entry) out=$("${PIN[@]}" "$BENCH/tls_client" --port "$TLS_PORT" -n "$TLS_REQUESTS") ;;
	write) out=$("${PIN[@]}" "$BENCH/write_load" -n "$WRITES" -s 64) ;;
	write-tls) out=$("${PIN[@]}" "$BENCH/write_load" -n "$WRITES" -s 64 --tls-record --udp) ;;
	go-tls) out=$("${PIN[@]}" "$BENCH/go_tls_client" -port "$TLS_PORT" -n "$GO_REQUESTS") ;;
	h2) out=$("${PIN[@]}" "$BENCH/go_tls_client" -h2 -port "$H2_PORT" -n "$H2_REQUESTS") ;;
	esac
	[ -n "$SENSOR_PID" ] && t1=$(cpu_ticks "$SENSOR_PID")
	stop_sensor
	RUN_NS=${out#ns_per_op=}
	RUN_NS=${RUN_NS%% *}
	[[ "$RUN_NS" =~ ^[0-9.]+$ ]] || die "$name/$mode: unexpected output: $out"
	RUN_CPU_MS=$(((t1 - t0) * 1000 / CLK_TCK))
}

# bench NAME FLOOR_MODE: ROUNDS rounds, mode order rotated every round so
# drift over time does not favour one mode; rows go to $TMP/NAME.rows.
bench() {
	local name=$1 floor=$2 r i m
	local modes=(none "$floor" tokentap)
	: >"$TMP/$name.rows"
	for ((r = 1; r <= ROUNDS; r++)); do
		declare -A ns=() cpu=()
		for ((i = 0; i < 3; i++)); do
			m=${modes[$(((r + i) % 3))]}
			run_mode "$name" "$m"
			ns[$m]=$RUN_NS
			cpu[$m]=$RUN_CPU_MS
		done
		echo "$r ${ns[none]} ${ns[$floor]} ${ns[tokentap]} ${cpu[tokentap]}" >>"$TMP/$name.rows"
		printf '  round %d/%d: none %s  %s %s  tokentap %s ns\n' "$r" "$ROUNDS" \
			"${ns[none]}" "$floor" "${ns[$floor]}" "${ns[tokentap]}" >&2
		unset ns cpu
	done
}

# bench2 NAME: as bench, with two modes (none, tokentap) alternated.
bench2() {
	local name=$1 r i m
	local modes=(none tokentap)
	: >"$TMP/$name.rows"
	for ((r = 1; r <= ROUNDS; r++)); do
		declare -A ns=() cpu=()
		for ((i = 0; i < 2; i++)); do
			m=${modes[$(((r + i) % 2))]}
			run_mode "$name" "$m"
			ns[$m]=$RUN_NS
			cpu[$m]=$RUN_CPU_MS
		done
		echo "$r ${ns[none]} ${ns[tokentap]} ${cpu[tokentap]}" >>"$TMP/$name.rows"
		printf '  round %d/%d: none %s  tokentap %s ns\n' "$r" "$ROUNDS" "${ns[none]}" \
			"${ns[tokentap]}" >&2
		unset ns cpu
	done
}

# report2 NAME TITLE UNIT: the table and summary line of a bench2 run.
report2() {
	awk -v name="$1" -v title="$2" -v unit="$3" -f /dev/stdin "$TMP/$1.rows" <<'AWK'
function median(a, n,    i, j, t) {
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
BEGIN {
	printf "\n== %s ==\n", title
	printf "%-6s %10s %10s %8s %9s\n", "round", "none", "tokentap", "tap/none", "tapCPUms"
}
{
	n++
	none[n] = $2; tap[n] = $3; cpu[n] = $4; rt[n] = $3 / $2
	printf "%-6d %10.1f %10.1f %8.3f %9d\n", $1, $2, $3, rt[n], $4
}
END {
	m_none = median(none, n); m_tap = median(tap, n); m_rt = median(rt, n); m_cpu = median(cpu, n)
	printf "%-6s %10.1f %10.1f %8.3f %9d\n", "median", m_none, m_tap, m_rt, m_cpu
	printf "(%s; the ratio is per round, then the median; tapCPUms = sensor CPU time " \
		"during the run)\n", unit
	printf "SUMMARY %s: none %.1f %s, tokentap %.1f; tokentap/none %.3f\n", name, m_none, unit,
		m_tap, m_rt
}
AWK
}

# report NAME TITLE FLOOR UNIT TARGET: the table and the summary line.
report() {
	awk -v name="$1" -v title="$2" -v floor="$3" -v unit="$4" -v target="$5" -f /dev/stdin "$TMP/$1.rows" <<'AWK'
function median(a, n,    i, j, t) {
	if (n == 0)
		return "n/a"
	for (i = 2; i <= n; i++)
		for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
		}
	return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
}
function fmt(v) { return v == "n/a" ? v : sprintf("%.3f", v) }
BEGIN {
	printf "\n== %s ==\n", title
	printf "%-6s %10s %10s %10s %8s %8s %8s %8s %9s\n", "round", "none", floor,
		"tokentap", floor "/none", "tap/none", "tap/" floor, "added", "tapCPUms"
}
{
	n++
	none[n] = $2; fl[n] = $3; tap[n] = $4; cpu[n] = $5
	rf[n] = $3 / $2; rt[n] = $4 / $2; rtf[n] = $4 / $3
	added = "n/a"
	# The added-cost ratio is meaningless when noise hides the floor's cost.
	if ($3 - $2 > 0) {
		added = ($4 - $2) / ($3 - $2)
		nadd++; add[nadd] = added
	}
	printf "%-6d %10.1f %10.1f %10.1f %8.3f %8.3f %8.3f %8s %9d\n", $1, $2, $3, $4,
		rf[n], rt[n], rtf[n], fmt(added), $5
}
END {
	m_none = median(none, n); m_fl = median(fl, n); m_tap = median(tap, n)
	m_rf = median(rf, n); m_rt = median(rt, n); m_rtf = median(rtf, n)
	m_add = median(add, nadd); m_cpu = median(cpu, n)
	printf "%-6s %10.1f %10.1f %10.1f %8.3f %8.3f %8.3f %8s %9d\n", "median",
		m_none, m_fl, m_tap, m_rf, m_rt, m_rtf, fmt(m_add), m_cpu
	printf "(%s; ratios are per round, then the median; added = " \
		"(tokentap - none) / (%s - none), %d of %d rounds usable; tapCPUms = " \
		"sensor CPU time during the run)\n", unit, floor, nadd, n
	printf "SUMMARY %s: none %.1f %s, %s %.1f, tokentap %.1f; " \
		"added-cost ratio median %s (target <= %s); tokentap/%s %s\n",
		name, m_none, unit, floor, m_fl, m_tap, fmt(m_add), target, floor, fmt(m_rtf)
}
AWK
}

# Scan the sensor's output for anything shaped like the benchmark token,
# without ever printing it.
check_no_token() {
	local leaks
	leaks=$(cat "$TMP"/tokentap.*.json "$TMP/sensor.err" 2>/dev/null |
		grep -cE 'ghp_[0-9A-Za-z]{36}' || true)
	if [ "$leaks" != 0 ]; then
		echo "bench: WARNING: $leaks tokentap output line(s) hold a raw token" >&2
		return 1
	fi
	TAP_LINES=$(cat "$TMP"/tokentap.*.json 2>/dev/null | wc -l || true)
}

echo "tokentap bench ($BENCH_ONLY): $ROUNDS rounds; workloads pinned to CPU $BENCH_CPU;" \
	"sensor: $TOKENTAP; load average at start: $(cut -d' ' -f1-3 /proc/loadavg)"
RESULT=0

if any_selected tls tls-tp tls-entry go-tls go-tls-tp h2 h2-tp; then
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
		-subj /CN=localhost -days 1 -keyout "$TMP/key.pem" -out "$TMP/cert.pem" \
		2>/dev/null || die "cannot generate a certificate"
fi

# start_server NAME CMD...: starts a server that prints its port; sets PORT.
start_server() {
	local name=$1
	shift
	"${PIN[@]}" "$@" >"$TMP/$name.out" &
	SERVER_PID=$!
	for _ in $(seq 200); do
		grep -qE '^port[= ]' "$TMP/$name.out" 2>/dev/null && break
		sleep 0.05
	done
	PORT=$(sed -nE 's/^port[= ]//p' "$TMP/$name.out")
	[ -n "$PORT" ] || die "$name server did not start"
}

stop_server() {
	kill -TERM "$SERVER_PID"
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}

if any_selected tls tls-tp tls-entry go-tls go-tls-tp; then
	start_server tls "$BENCH/tls_server" --cert "$TMP/cert.pem" --key "$TMP/key.pem"
	TLS_PORT=$PORT
fi

# floor_pair NAME WHAT TITLE: NAME against the call-site floor (empty
# programs at the very instructions tokentap probes) and NAME-tp against
# that floor plus empty programs on the syscall tracepoints tokentap
# enables, over which what is left is the programs' own work; each if
# selected.
floor_pair() {
	local base=$1 what=$2 title=$3 name floor
	for name in "$base" "$base-tp"; do
		selected "$name" || continue
		floor=callsite
		[ "$name" = "$base" ] || floor=callsite-tp
		echo "$name: $what..." >&2
		bench "$name" "$floor"
		report "$name" "$title" "$floor" ns/request 1.15
	done
}

floor_pair tls "$TLS_REQUESTS keep-alive requests per run (one SSL_write each)" \
	"TLS keep-alive request, $TLS_REQUESTS per run, uprobes on $LIBSSL"

# The naive floor: an empty program at the functions' entries (single-stepped).
if selected tls-entry; then
	echo "tls-entry: $TLS_REQUESTS keep-alive requests per run (one SSL_write each)..." >&2
	bench tls-entry empty
	report tls-entry "TLS keep-alive request, $TLS_REQUESTS per run, uprobes on $LIBSSL" \
		empty ns/request 0.4
fi

# The Go client against the same C server: the floor probes the server's
# SSL_write and SSL_write_ex and the client's crypto/tls.(*Conn).Write,
# each where tokentap does (Go: the jbe of the stack check).
EMPTY_EXTRA=(--probe "$BENCH/go_tls_client:crypto/tls.(*Conn).Write")
floor_pair go-tls "$GO_REQUESTS keep-alive requests per run (one crypto/tls Write each)" \
	"Go crypto/tls keep-alive request, $GO_REQUESTS per run, Go client, C server"
EMPTY_EXTRA=()
if [ -n "$SERVER_PID" ]; then stop_server; fi

# Go net/http over HTTP/2 against node's http2 server: every request on one
# connection, so after the first the token is an HPACK table index. The
# floor: empty probes where tokentap probes, node's own OpenSSL (it links
# it statically) and the client's crypto/tls Write and encodeHeaders, once
# per request (the HPACK encoder is not probed).
if any_selected h2 h2-tp; then
	start_server h2 "$NODE" "$HERE/../e2e/h2_server.js" "$TMP/cert.pem" "$TMP/key.pem"
	H2_PORT=$PORT
	EMPTY_LIB=$(readlink -f "$NODE")
	EMPTY_EXTRA=(--probe "$BENCH/go_tls_client:crypto/tls.(*Conn).Write"
		--probe "$BENCH/go_tls_client:net/http.(*http2ClientConn).encodeHeaders")
	floor_pair h2 "$H2_REQUESTS HTTP/2 requests per run on one connection" \
		"HTTP/2 request (Go net/http client, node server), $H2_REQUESTS per run on one connection"
	EMPTY_EXTRA=()
	EMPTY_LIB=
	stop_server
fi

if selected write; then
	echo "write: $WRITES 64-byte write() calls to /dev/null per run..." >&2
	bench write floor
	report write "non-HTTP write(), $WRITES x 64 bytes to /dev/null per run" \
		floor ns/write 1.1
fi

# The blind-spot check's own path: every write a TLS record from a process
# no probe covers, on one socket (reported once, then a failed map insert).
if selected write-tls; then
	echo "write-tls: $WRITES 64-byte TLS-record writes to a UDP socket per run..." >&2
	bench2 write-tls
	report2 write-tls "TLS application-data record write() from an uncovered process, $WRITES x 64 bytes to UDP per run" \
		ns/write
fi

if [ "$TAP_RUNS" -gt 0 ]; then
	check_no_token || RESULT=1
	echo "tokentap output: $TAP_LINES lines over $TAP_RUNS runs; no raw token found in it" \
		"(searched, never printed)"
fi

# The sensor's user space alone: generated ring-buffer records replayed
# through the pipeline on one CPU (replay_bench.c), then its memory in a
# fresh process (10,000 tokens x 1,000 processes by default).
# REPLAY_BASELINE (another build's replay_bench, e.g. of the commit before a
# change): one round runs both, one after the other, in the order rotating
# per round; per-round ratios this/baseline, their medians, and both
# builds' memory.
replay_vs_baseline() {
	local r first second out q j rows=()

	echo
	echo "replay vs baseline ($REPLAY_BASELINE), $ROUNDS rounds:"
	printf '%-6s %12s %12s %12s %12s %8s %8s\n' round base-quiet this-quiet base-json this-json quiet-x json-x
	for ((r = 1; r <= ROUNDS; r++)); do
		if ((r % 2)); then first=base; else first=this; fi
		for who in $first $([ $first = base ] && echo this || echo base); do
			local bin="$BENCH/replay_bench"
			[ "$who" = base ] && bin=$REPLAY_BASELINE
			out=$("${PIN[@]}" "$bin" -r 1 "${REPLAY_EXTRA[@]}" | grep '^SUMMARY replay:') || return 1
			q=$(sed -E 's/.*quiet ([0-9]+) events.*/\1/' <<<"$out")
			j=$(sed -E 's/.*json ([0-9]+) events.*/\1/' <<<"$out")
			eval "${who}_q=\$q ${who}_j=\$j"
		done
		rows+=("$r $base_q $this_q $base_j $this_j")
	done
	printf '%s\n' "${rows[@]}" | awk '
		{ printf "%-6s %12d %12d %12d %12d %8.3f %8.3f\n", $1, $2, $3, $4, $5, $3 / $2, $5 / $4
		  bq[NR] = $2; tq[NR] = $3; bj[NR] = $4; tj[NR] = $5; rq[NR] = $3 / $2; rj[NR] = $5 / $4 }
		function med(a, n,   i, j, t) {
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		END { printf "SUMMARY replay-vs-baseline: quiet %d vs %d events/s per core (x%.3f), json %d vs %d (x%.3f), medians of %d rounds\n",
			med(tq, NR), med(bq, NR), med(rq, NR), med(tj, NR), med(bj, NR), med(rj, NR), NR }'
	echo "baseline memory:"
	"${PIN[@]}" "$REPLAY_BASELINE" -m "${REPLAY_EXTRA[@]}" | grep '^SUMMARY' | sed 's/^SUMMARY replay-memory:/  baseline:/'
}

if selected replay; then
	echo "replay: $ROUNDS rounds of the pipeline on recorded-layout ring-buffer events..." >&2
	echo
	"${PIN[@]}" "$BENCH/replay_bench" -r "$ROUNDS" "${REPLAY_EXTRA[@]}" || RESULT=1
	"${PIN[@]}" "$BENCH/replay_bench" -m "${REPLAY_EXTRA[@]}" | grep -v '^replay:' || RESULT=1
	if [ -n "${REPLAY_BASELINE:-}" ]; then
		replay_vs_baseline || RESULT=1
	fi
fi

# The real sensor's resident memory once ready (BPF maps mapped, libraries
# initialised), with the default ring buffer (4 MiB) and a 16 MiB one: the
# consumer maps the ring buffer's data pages twice (for records that wrap),
# and both mappings count in VmRSS.
# mib KIB: KiB as MiB with one decimal.
mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }

# status_mem PID: VmRSS, RssAnon, RssFile, RssShmem and VmHWM in KiB.
status_mem() {
	awk '/^(VmRSS|RssAnon|RssFile|RssShmem|VmHWM):/ { v[$1] = $2 }
		END { print v["VmRSS:"], v["RssAnon:"], v["RssFile:"], v["RssShmem:"], v["VmHWM:"] }' \
		"/proc/$1/status"
}

# smaps_top PID N: the N mappings (grouped by name) holding the most RSS.
smaps_top() {
	awk -v top="$2" '
		/^[0-9a-f]+-[0-9a-f]+ / { name = NF >= 6 ? $6 : "[anonymous]"; for (i = 7; i <= NF; i++) name = name " " $i; next }
		/^Rss:/ { rss[name] += $2 }
		END { for (n in rss) if (rss[n] > 0) printf "%d %s\n", rss[n], n }' "/proc/$1/smaps" |
		sort -rn | head -n "$2" | awk '{ printf "    %7d KiB  %s\n", $1, substr($0, index($0, " ") + 1) }'
}

if selected rss; then
	echo
	for rb in default 16M; do
		extra=()
		[ "$rb" = default ] || extra=(--ringbuf-size "$rb")
		TOKENTAP_EXTRA_SAVE=("${TOKENTAP_EXTRA[@]}")
		TOKENTAP_EXTRA+=("${extra[@]}")
		start_sensor tokentap rss
		TOKENTAP_EXTRA=("${TOKENTAP_EXTRA_SAVE[@]}")
		read -r rss anon file shmem hwm < <(status_mem "$SENSOR_PID")
		if [ "$rb" = default ]; then
			echo "sensor idle, default ring buffer: largest mappings by RSS:"
			smaps_top "$SENSOR_PID" 10
		fi
		stop_sensor
		echo "SUMMARY rss: sensor idle, ring buffer $rb: VmRSS $(mib "$rss") MiB" \
			"(RssAnon $(mib "$anon"), RssFile $(mib "$file"), RssShmem $(mib "$shmem"), VmHWM $(mib "$hwm")) (target <= 32)"
	done

	# Loaded: RSS_PROCS live client processes, RSS_TOKENS distinct tokens
	# over them (each RSS_ROUNDS times) on keep-alive plaintext HTTP/1 to a
	# loopback sink (rss_load.c). The sensor ships as deployed, to a
	# collector that is away (nothing listens on RSS_COLLECTOR), so its
	# batches are built, compressed and spooled. RSS is read once the sensor
	# has reported every (token, process) pair and then one status interval
	# (the steady state), the clients still alive; VmHWM is the peak.
	RSS_PROCS=${RSS_PROCS:-1000}
	RSS_TOKENS=${RSS_TOKENS:-10000}
	RSS_ROUNDS=${RSS_ROUNDS:-2}
	RSS_COLLECTOR=${RSS_COLLECTOR:-http://127.0.0.1:9}
	[ -x "$BENCH/rss_load" ] || die "missing $BENCH/rss_load (run: make bench)"
	for n in RSS_PROCS RSS_TOKENS RSS_ROUNDS; do
		[[ "${!n}" =~ ^[1-9][0-9]*$ ]] || die "$n must be a positive integer"
	done
	head -c 32 /dev/urandom | base64 | tr -d '/+=' >"$TMP/sensor-token"
	TOKENTAP_EXTRA_SAVE=("${TOKENTAP_EXTRA[@]}")
	TOKENTAP_EXTRA+=(--collector "$RSS_COLLECTOR" --collector-token-file "$TMP/sensor-token")
	start_sensor tokentap rss-load
	TOKENTAP_EXTRA=("${TOKENTAP_EXTRA_SAVE[@]}")
	json=$TMP/tokentap.rss-load.$TAP_RUNS.json
	read -r rss0 _ < <(status_mem "$SENSOR_PID")
	coproc LOAD { exec "${PIN[@]}" "$BENCH/rss_load" -p "$RSS_PROCS" -t "$RSS_TOKENS" -r "$RSS_ROUNDS"; }
	LOAD_IN=${LOAD[1]}
	read -r -t 300 loaded <&"${LOAD[0]}" || die "rss_load did not finish sending"
	[[ "$loaded" == loaded* ]] || die "rss_load: unexpected output: $loaded"
	# Every pair reported, or (requests lost to a full ring buffer on a
	# busy machine: counted in ringbuf_data_drops) no new one for 5 s.
	seen=0
	last=-1
	stall=0
	while :; do
		seen=$(grep -cE '"event": ?"token_seen"' "$json" || true)
		[ "$seen" -lt "$RSS_TOKENS" ] || break
		if [ "$seen" = "$last" ]; then stall=$((stall + 1)); else stall=0; fi
		last=$seen
		[ $stall -lt 25 ] || break
		sleep 0.2
	done
	[ "$seen" -gt 0 ] || die "rss: the sensor reported no (token, process) pair"
	[ "$seen" -ge "$RSS_TOKENS" ] || echo "rss: WARNING: the sensor reported $seen of" \
		"$RSS_TOKENS (token, process) pairs (see ringbuf_data_drops); the figures hold fewer"
	read -r rss1 _ < <(status_mem "$SENSOR_PID")
	statuses=$(grep -cE '"event": ?"sensor_status"' "$json" || true)
	deadline=$((SECONDS + 60))
	until [ "$(grep -cE '"event": ?"sensor_status"' "$json" || true)" -gt "$statuses" ]; do
		[ $SECONDS -lt $deadline ] || die "rss: no sensor_status within 60 s"
		sleep 0.2
	done
	sleep 0.5
	read -r rss anon file shmem hwm < <(status_mem "$SENSOR_PID")
	echo "sensor loaded ($seen token_seen events), largest mappings by RSS:"
	smaps_top "$SENSOR_PID" 10
	exec {LOAD_IN}>&-
	wait "$LOAD_PID" || die "rss_load failed"
	# on SIGINT the sensor tries its away collector for up to 5 s, then exits
	kill -INT "$SENSOR_PID" 2>/dev/null || true
	wait_exit "$SENSOR_PID" 10 || true
	stop_sensor
	echo "SUMMARY rss-loaded: sensor with $RSS_TOKENS tokens x $RSS_PROCS processes ($seen pairs reported): VmRSS" \
		"$(mib "$rss") MiB (RssAnon $(mib "$anon"), RssFile $(mib "$file")," \
		"RssShmem $(mib "$shmem"), VmHWM $(mib "$hwm")); at the last token_seen" \
		"$(mib "$rss1") MiB; idle before the load $(mib "$rss0") MiB (target <= 32)"
	if check_no_token; then
		echo "rss: no raw token in the sensor's output (searched, never printed)"
	else
		RESULT=1
	fi
fi

# The highest paced plaintext request rate with no ring-buffer drop
# (drop_rate.py: a fresh sensor per rate step, default ring buffer).
if selected drops; then
	python3 "$HERE/drop_rate.py" "$BUILD" || RESULT=1
fi

# The collector's ingest path on one CPU, storing into a file under $TMP
# (INGEST_DIR to use another file system); decode-only is its baseline.
if selected ingest; then
	echo "ingest: $INGEST_RUNS runs of $INGEST_BATCHES batches x $INGEST_EVENTS events..." >&2
	echo
	"${PIN[@]}" "$BENCH/ingest_bench" -b "$INGEST_BATCHES" -e "$INGEST_EVENTS" \
		-t "$INGEST_TOKENS" -r "$INGEST_RUNS" -d "${INGEST_DIR:-$TMP}" || RESULT=1
	# The same batches into PostgreSQL (scripts/pg-test.sh starts it on
	# loopback). Not pinned: the server runs on the same machine. First one
	# sensor's batches in turn (one thread: every round trip waits), then a
	# collector as serve runs it, 4 HTTP threads (sensors posting at once)
	# with its default 2 writers, then two such replicas sharing the
	# database, 1 writer each (--db-writers divided among the replicas).
	pgurl=${TOKENTAP_TEST_PG:-}
	if [ -z "$pgurl" ]; then
		pgurl=$("$HERE/../../scripts/pg-test.sh" 2>/dev/null) || pgurl=
	fi
	if [ -n "$pgurl" ]; then
		for shape in "-n 1 -c 1" "-n 1 -c 4" "-n 2 -c 4 -w 1"; do
			echo
			# shellcheck disable=SC2086 # shape is words by design
			"$BENCH/ingest_bench" -b "$INGEST_BATCHES" -e "$INGEST_EVENTS" \
				-t "$INGEST_TOKENS" -r "$INGEST_RUNS" -p "$pgurl" $shape || RESULT=1
		done
	else
		echo "ingest-pg: skipped (no PostgreSQL: scripts/pg-test.sh could not start one)"
	fi
fi

# Real sensor, real collector, a client and a poller; the script cleans up
# after itself and fails only when a row never appears or a token leaks.
if selected latency; then
	TOKENTAP=$TOKENTAP TOKENTAP_ARGS=${TOKENTAP_ARGS:-} READY_TIMEOUT=$READY_TIMEOUT \
		python3 "$HERE/latency_bench.py" "$BUILD" || RESULT=1
fi

# Simulated fleets posting real batches to a real collector (no BPF).
if selected fleet; then
	python3 "$HERE/fleet_bench.py" "$BUILD" || RESULT=1
fi

# Token queries over 30 days of history; the history is generated once and
# kept under $BUILD/bench (QUERY_DB elsewhere).
# The same on PostgreSQL when scripts/pg-test.sh can start one.
if selected query; then
	pgurl=${TOKENTAP_TEST_PG:-}
	if [ -z "$pgurl" ]; then
		pgurl=$("$HERE/../../scripts/pg-test.sh" 2>/dev/null) || pgurl=
	fi
	[ -n "$pgurl" ] || echo "query-pg: skipped (no PostgreSQL: scripts/pg-test.sh could not start one)"
	"$BENCH/query_bench" --db "${QUERY_DB:-$BENCH/query-history.db}" ${pgurl:+--pg "$pgurl"} \
		--collector "$BUILD/tokentap-collector" || RESULT=1
fi

# The exec gate's cost per exec and the library attach delay (gate_bench.sh).
if selected gate; then
	echo
	TOKENTAP=$TOKENTAP READY_TIMEOUT=$READY_TIMEOUT "$HERE/gate_bench.sh" "$BUILD" || RESULT=1
fi
exit $RESULT
