#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build (once per machine, cached) the debug kernel `make test-debug` boots: Debian's
# linux-source-6.1 configured for virtme-ng guests (`virtme-configkernel --defconfig`)
# plus scripts/debug-kernel.config (KASAN generic inline, KFENCE, lockdep, atomic-sleep
# checks, kmemleak, no debug info).
#
# The build tree is kept: it is the KDIR our modules are built against.  It lives in
# .cache/kernels/6.1-debug-<source version>-<hash of fragment and RECIPE>/, so a new
# source package, a changed fragment or RECIPE builds a new kernel and an unchanged one is reused.
# On success .cache/kernels/debug-kernels.json lists it (series "6.1-debug") for
# thrift_kgen/testing/vm.py.  Prints the manifest path.
#
# Needs: linux-source-6.1 (the package's tarball in /usr/src, else apt-get download),
# gcc, make, flex, bison, bc, libelf-dev, libssl-dev.  Runs `nice -n 19 make -j$JOBS`
# (JOBS defaults to 2).  KGEN_DEBUG_KERNEL_FORCE=1 rebuilds.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
mkdir -p "$ROOT/.cache"
# the real path: the manifest must stay valid for every worktree sharing this cache
CACHE=$(readlink -f "$ROOT/.cache")/kernels
DEBS=$CACHE/debs
FRAGMENT=$ROOT/scripts/debug-kernel.config
MANIFEST=$CACHE/debug-kernels.json
JOBS=${JOBS:-2}
SERIES=6.1-debug
log() { printf 'build-debug-kernel: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

mkdir -p "$CACHE" "$DEBS"
for t in make gcc flex bison bc; do command -v "$t" >/dev/null || die "$t missing (scripts/setup-apt.sh)"; done
[ -x "$ROOT/.venv/bin/virtme-configkernel" ] || die ".venv/bin/virtme-configkernel missing (make venv)"

# --- which source -------------------------------------------------------------------------
TARBALL=""
SRCVER=""
if ls /usr/src/linux-source-6.1.tar.* >/dev/null 2>&1; then
	TARBALL=$(ls /usr/src/linux-source-6.1.tar.* | head -n1)
	SRCVER=$(dpkg-query -W -f '${Version}' linux-source-6.1 2>/dev/null || true)
fi
if [ -z "$SRCVER" ]; then
	SRCVER=$(apt-cache show linux-source-6.1 2>/dev/null | sed -n 's/^Version: //p' | sort -V | tail -n1)
	[ -n "$SRCVER" ] || die "no linux-source-6.1 in apt (apt-get update?)"
	TARBALL=""
fi
# Bump RECIPE when the way the kernel is configured or built below changes.
RECIPE=1
KEY=$( (echo "recipe $RECIPE"; cat "$FRAGMENT") | sha256sum | cut -c1-12)
DIR=$CACHE/$SERIES-$SRCVER-$KEY
TREE=$DIR/linux

exec 9>"$CACHE/.debug-kernel.lock"
flock 9

write_manifest() {
	local rel
	rel=$(cat "$DIR/kernelrelease")
	printf '[\n  {"series": "%s", "version": "%s", "package_version": "%s", "suite": "debug", "vmlinuz": "%s", "kdir": "%s"}\n]\n' \
		"$SERIES" "$rel" "$SRCVER" "$DIR/vmlinuz" "$TREE" >"$MANIFEST.tmp"
	mv "$MANIFEST.tmp" "$MANIFEST"
	echo "$MANIFEST"
}

if [ -f "$DIR/.built" ] && [ "${KGEN_DEBUG_KERNEL_FORCE:-0}" != 1 ]; then
	log "cached: $DIR ($(cat "$DIR/build-seconds" 2>/dev/null || echo '?') s to build)"
	write_manifest
	exit 0
fi

# --- unpack ---------------------------------------------------------------------------
rm -rf "$DIR"
mkdir -p "$DIR"
if [ -z "$TARBALL" ]; then
	deb=$(ls "$DEBS"/linux-source-6.1_"${SRCVER//:/%3a}"_*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$deb" ]; then
		log "downloading linux-source-6.1 $SRCVER"
		(cd "$DEBS" && apt-get download -q "linux-source-6.1=$SRCVER" 2>&1 |
			grep -v '^W: Download is performed unsandboxed' >&2 || true)
		deb=$(ls "$DEBS"/linux-source-6.1_*.deb 2>/dev/null | head -n1 || true)
		[ -n "$deb" ] || die "apt-get download linux-source-6.1 failed"
	fi
	log "extracting the source tarball from $(basename "$deb")"
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$DIR" --wildcards './usr/src/linux-source-6.1.tar.*'
	TARBALL=$(ls "$DIR"/usr/src/linux-source-6.1.tar.* | head -n1)
fi
log "unpacking $(basename "$TARBALL") ($SRCVER) into $DIR"
tar -x -C "$DIR" -f "$TARBALL"
mv "$DIR/linux-source-6.1" "$TREE"
rm -rf "$DIR/usr"

# --- configure and build ------------------------------------------------------------
cd "$TREE"
export LC_ALL=C
unset MAKEFLAGS MFLAGS
# virtme-configkernel appends its own items after a --custom fragment, so ours go last,
# by hand: the later assignment of a symbol wins.
{ "$ROOT/.venv/bin/virtme-configkernel" --defconfig && cat "$FRAGMENT" >>.config &&
	make olddefconfig; } >"$DIR/config.log" 2>&1 ||
	{ tail -n 30 "$DIR/config.log" >&2; die "configuring failed (log: $DIR/config.log)"; }
# The fragment must have survived olddefconfig (a dependency it misses is silently dropped).
missing=""
while read -r line; do
	case "$line" in
	CONFIG_*=n) sym=${line%%=*}; grep -q "^$sym=" .config && missing="$missing $line" ;;
	CONFIG_*=*) grep -qxF "$line" .config || missing="$missing $line" ;;
	"# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *}; grep -q "^$sym=" .config && missing="$missing $sym=n" ;;
	esac
done <"$FRAGMENT"
[ -z "$missing" ] || die "config fragment not applied:$missing (see $TREE/.config)"
cp .config "$DIR/config"

log "building in $TREE with nice -n 19 make -j$JOBS (log: $DIR/build.log)"
start=$(date +%s)
if ! nice -n 19 make -j"$JOBS" all >"$DIR/build.log" 2>&1; then
	tail -n 40 "$DIR/build.log" >&2
	die "build failed (log: $DIR/build.log)"
fi
end=$(date +%s)
echo $((end - start)) >"$DIR/build-seconds"
make -s kernelrelease >"$DIR/kernelrelease"
cp arch/x86/boot/bzImage "$DIR/vmlinuz"
touch "$DIR/.built"
rm -f "$DEBS"/linux-source-6.1_*.deb     # 140 MB, not needed any more
log "built $(cat "$DIR/kernelrelease") in $((end - start)) s"
write_manifest
