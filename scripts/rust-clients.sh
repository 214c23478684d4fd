#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the rustls test clients (tests/e2e/rust_clients) offline from
# Debian's packaged crates (/usr/share/cargo/registry) with Debian's rustc
# and cargo, into OUT: each client as built (symbols kept), a stripped
# copy (NAME-stripped), and the ureq client with v0 symbol names
# (tt-ureq-client-v0). Used by `make rust-clients`; tests/e2e/run_rust.py
# runs them.
# Usage: scripts/rust-clients.sh OUT
set -euo pipefail
out=${1:?usage: $0 OUT}
here=$(cd "$(dirname "$0")/.." && pwd)
# Debian's toolchain, not one found first on PATH (rustup)
cargo=${CARGO:-/usr/bin/cargo}
rustc=${RUSTC:-/usr/bin/rustc}
registry=/usr/share/cargo/registry
for need in "$cargo" "$rustc"; do
	[ -x "$need" ] || { echo "$need missing: apt-get install cargo rustc" >&2; exit 1; }
done
[ -d "$registry/ureq-2.6.2" ] || [ -n "$(ls -d "$registry"/ureq-2.* 2>/dev/null)" ] ||
	{ echo "no ureq in $registry: apt-get install librust-ureq-dev" >&2; exit 1; }

mkdir -p "$out/src" "$out/cargo-home"
# the sources are copied: cargo writes Cargo.lock next to the workspace
cp -r "$here/tests/e2e/rust_clients/." "$out/src/"
# crates-io replaced by the packaged crates; nothing is fetched
cat >"$out/cargo-home/config.toml" <<EOT
[source.crates-io]
replace-with = "debian"
[source.debian]
directory = "$registry"
[net]
offline = true
EOT
members=(ureq_client)
# reqwest (hyper over tokio-rustls) when Debian's package is there
if [ -n "$(ls -d "$registry"/reqwest-0.11.* 2>/dev/null)" ]; then
	members+=(reqwest_client)
fi
for m in "${members[@]}"; do
	CARGO_HOME="$out/cargo-home" RUSTC="$rustc" "$cargo" build --quiet --release --offline \
		--manifest-path "$out/src/$m/Cargo.toml" --target-dir "$out/target"
done
for bin in "$out"/target/release/tt-*-client; do
	name=$(basename "$bin")
	cp "$bin" "$out/$name"
	strip -o "$out/$name-stripped" "$bin"
done
# ureq's client once more with v0 symbol names (-C symbol-mangling-version=v0),
# in its own target directory: every crate is built again with the flag
CARGO_HOME="$out/cargo-home" RUSTC="$rustc" RUSTFLAGS="-C symbol-mangling-version=v0" \
	"$cargo" build --quiet --release --offline \
	--manifest-path "$out/src/ureq_client/Cargo.toml" --target-dir "$out/target-v0"
cp "$out/target-v0/release/tt-ureq-client" "$out/tt-ureq-client-v0"
