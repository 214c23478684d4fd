#!/usr/bin/env bash
# `make run`: runs tokentap on this host with its embedded defaults (state in
# /var/lib/tokentap, readable output) until Ctrl-C. Extra flags: TOKENTAP_ARGS.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "$(id -u)" -ne 0 ]; then
	echo "tokentap: make run needs root (BPF)" >&2
	exit 1
fi
# shellcheck disable=SC2086
exec build/tokentap ${TOKENTAP_ARGS:-}
