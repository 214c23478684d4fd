#!/usr/bin/env bash
# Makes sure a PostgreSQL server runs on loopback for the tests, as root on
# Debian 12: the postgresql-15 "main" cluster, created when missing and
# started when down, and a role that may create databases (each store test
# makes and drops its own). Idempotent. Prints the conninfo URL the tests
# take in TOKENTAP_TEST_PG; `eval "$(scripts/pg-test.sh --export)"` sets it.
set -euo pipefail
# Only the URL goes to stdout: callers capture it, and pg_ctlcluster prints
# notes such as "Removed stale pid file." that must not end up in it.
exec 3>&1 1>&2

VER=${PG_VERSION:-15}
CLUSTER=${PG_CLUSTER:-main}
PORT=${PG_PORT:-5432}
ROLE=${PG_TEST_ROLE:-tokentap_test}
PASS=${PG_TEST_PASSWORD:-tokentap_test}

if [ "$(id -u)" -ne 0 ]; then
	echo "pg-test: run as root (it manages the postgresql-$VER cluster)" >&2
	exit 1
fi
if ! command -v pg_ctlcluster >/dev/null; then
	echo "pg-test: postgresql is not installed (scripts/deps.sh installs it)" >&2
	exit 1
fi
if ! pg_lsclusters -h | awk -v v="$VER" -v c="$CLUSTER" '$1 == v && $2 == c { f = 1 } END { exit !f }'; then
	pg_createcluster "$VER" "$CLUSTER" -p "$PORT" -- --auth-local=peer --auth-host=scram-sha-256 >/dev/null 3>&-
fi
# loopback only, whatever the cluster had
conf=/etc/postgresql/$VER/$CLUSTER/conf.d/tokentap-test.conf
if [ ! -f "$conf" ]; then
	mkdir -p "$(dirname "$conf")"
	printf "listen_addresses = 'localhost'\nmax_connections = 200\n" >"$conf"
fi
if ! pg_lsclusters -h | awk -v v="$VER" -v c="$CLUSTER" '$1 == v && $2 == c && $4 == "online" { f = 1 } END { exit !f }'; then
	# the server must not inherit the descriptor our caller reads the URL from
	pg_ctlcluster "$VER" "$CLUSTER" start 3>&-
fi
PORT=$(pg_lsclusters -h | awk -v v="$VER" -v c="$CLUSTER" '$1 == v && $2 == c { print $3 }')
for _ in $(seq 1 50); do
	runuser -u postgres -- pg_isready -q -h 127.0.0.1 -p "$PORT" && break
	sleep 0.2
done
runuser -u postgres -- psql -q -X -p "$PORT" -v ON_ERROR_STOP=1 -d postgres >/dev/null <<SQL
SELECT format('CREATE ROLE %I LOGIN CREATEDB', '$ROLE')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$ROLE') \gexec
ALTER ROLE "$ROLE" WITH LOGIN CREATEDB PASSWORD '$PASS';
SQL
url="postgresql://$ROLE:$PASS@127.0.0.1:$PORT/postgres"
if [ "${1:-}" = "--export" ]; then
	echo "export TOKENTAP_TEST_PG='$url'" >&3
else
	echo "$url" >&3
fi
