#!/usr/bin/env bash
# `make run`: tokentap on this host with its embedded defaults. Starts the
# collector on loopback (SQLite in a local state directory), the sensor
# shipping to it, and a live view of the token inventory until Ctrl-C,
# which stops both cleanly. The collector's web console is at the URL printed.
#
#   TOKENTAP_RUN_DIR  state directory (default ./.tokentap-run)
#   TOKENTAP_PORT     collector port on 127.0.0.1 (default 7733)
#   TOKENTAP_ARGS     extra sensor flags
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "tokentap: make run needs root (the sensor loads BPF programs)" >&2
	exit 1
fi

dir=${TOKENTAP_RUN_DIR:-$PWD/.tokentap-run}
port=${TOKENTAP_PORT:-7733}
url="http://127.0.0.1:$port"
mkdir -p "$dir"
chmod 700 "$dir"
# The sensor's credential for the collector, made once.
if [ ! -s "$dir/sensor-token" ]; then
	(umask 077 && openssl rand -hex 32 >"$dir/sensor-token")
fi

coll_pid="" sensor_pid=""
stop() {
	trap - INT TERM EXIT
	[ -n "$sensor_pid" ] && kill -TERM "$sensor_pid" 2>/dev/null && wait "$sensor_pid" 2>/dev/null || true
	[ -n "$coll_pid" ] && kill -TERM "$coll_pid" 2>/dev/null && wait "$coll_pid" 2>/dev/null || true
	echo "tokentap: stopped; state and logs in $dir" >&2
}
trap stop INT TERM EXIT

build/tokentap-collector serve --listen "127.0.0.1:$port" --db "$dir/collector.db" \
	--auth-file "$dir/sensor-token" >>"$dir/collector.log" 2>&1 &
coll_pid=$!
for _ in $(seq 50); do
	curl -fsS -o /dev/null "$url/healthz" 2>/dev/null && break
	kill -0 "$coll_pid" 2>/dev/null || { tail -5 "$dir/collector.log" >&2; exit 1; }
	sleep 0.1
done

: >"$dir/sensor.log"
# shellcheck disable=SC2086
build/tokentap --state-dir "$dir/sensor" --collector "$url" --collector-token-file "$dir/sensor-token" \
	--quiet --interval 5 ${TOKENTAP_ARGS:-} 2>>"$dir/sensor.log" &
sensor_pid=$!
for _ in $(seq 300); do
	grep -q "tokentap: ready" "$dir/sensor.log" && break
	kill -0 "$sensor_pid" 2>/dev/null || { tail -5 "$dir/sensor.log" >&2; exit 1; }
	sleep 0.1
done
grep "tokentap: ready" "$dir/sensor.log" >&2 || true
echo "tokentap: web console at $url/ (loopback only)" >&2

# The live view runs in the foreground: Ctrl-C ends it, then stop() runs.
build/tokentap-collector top --url "$url" --interval 1 || true
