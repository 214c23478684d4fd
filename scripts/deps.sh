#!/usr/bin/env bash
# Installs the Debian 12 packages tokentap needs to build, run and test,
# only when something is missing (a no-op on a prepared machine).
set -euo pipefail

pkgs=(
	make gcc clang llvm pkg-config bpftool
	libbpf-dev libelf-dev zlib1g-dev libssl-dev libjson-c-dev libcapstone-dev
	libcmocka-dev libclang-rt-14-dev
	protobuf-c-compiler libprotobuf-c-dev libsqlite3-dev libpq-dev postgresql libmicrohttpd-dev libcurl4-openssl-dev
	openssl curl wget gnutls-bin libnss3-tools ca-certificates python3 nodejs procps golang-go
	python3-h2 python3-grpcio golang-google-grpc-dev
	cargo rustc librust-ureq-dev librust-reqwest-dev
	chromium
	unzip python3-yaml libcap2-bin podman
	default-jdk-headless libasm-java libmbedtls-dev
)
# npm builds the web console; a nodejs that ships its own npm needs no package
command -v npm >/dev/null 2>&1 || pkgs+=(npm)

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "tokentap: missing packages: ${missing[*]} (run as root to install them)" >&2
	exit 1
fi
echo "tokentap: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
