#!/usr/bin/env bash
# Builds the container image tokentap:VERSION with podman from files on this
# machine only (make image): no registry, no base image. The root filesystem
# holds the two binaries, exactly the shared libraries they load (ldd), the
# CA bundle and a passwd file; it is imported with `podman import`.
# Usage: scripts/build-image.sh VERSION   (BUILD: the build directory)
set -euo pipefail
cd "$(dirname "$0")/.."
VERSION=${1:?usage: $0 VERSION}
BUILD=${BUILD:-build}
BINS=("$BUILD/tokentap" "$BUILD/tokentap-collector")
for b in "${BINS[@]}"; do
	[ -x "$b" ] || { echo "build-image: $b missing (make all)" >&2; exit 1; }
done
command -v podman >/dev/null || { echo "build-image: podman not installed (scripts/deps.sh)" >&2; exit 1; }

root=$(mktemp -d "${TMPDIR:-/tmp}/tokentap-image.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{usr/bin,etc/ssl/certs,tmp,var/lib/tokentap,var/lib/tokentap-collector,etc/tokentap}
chmod 1777 "$root/tmp"
install -m 0755 "${BINS[@]}" "$root/usr/bin/"
# --java takes the agent from ../lib/tokentap/java beside the installed sensor
if [ -f "$BUILD/java/tokentap-agent.jar" ] && [ -f "$BUILD/java/libtokentap_java.so" ]; then
	install -d -m 0755 "$root/usr/lib/tokentap/java"
	install -m 0644 "$BUILD/java/tokentap-agent.jar" "$BUILD/java/libtokentap_java.so" \
		"$root/usr/lib/tokentap/java/"
fi
# every library at the path the loader looks for it, symlinks resolved
for lib in $(ldd "${BINS[@]}" | awk '/=> \//{print $3} /^\t\/lib/{print $1}' | sort -u); do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
# Debian's loader path is /lib64 -> usr/lib64 ...; keep the merged-/usr links
for d in lib lib64; do
	if [ -d "$root/$d" ] && [ ! -L "$root/$d" ]; then
		mkdir -p "$root/usr/$d" && cp -a "$root/$d/." "$root/usr/$d/" && rm -rf "${root:?}/$d"
	fi
	ln -sfn "usr/$d" "$root/$d"
done
cp -L /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/"
printf 'root:x:0:0:root:/root:/usr/sbin/nologin\nnonroot:x:65532:65532:nonroot:/nonexistent:/usr/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nnonroot:x:65532:\n' >"$root/etc/group"
chown 65532:65532 "$root/var/lib/tokentap-collector"

# reproducible: fixed owners and times, sorted names
tar --sort=name --mtime=@0 --numeric-owner -C "$root" -cf "$BUILD/tokentap-image.tar" .
podman import \
	--change 'ENTRYPOINT ["/usr/bin/tokentap"]' \
	--change "LABEL org.opencontainers.image.title=tokentap org.opencontainers.image.version=$VERSION" \
	"$BUILD/tokentap-image.tar" "localhost/tokentap:$VERSION" >/dev/null
echo "tokentap:$VERSION ($(du -h "$BUILD/tokentap-image.tar" | cut -f1))"
