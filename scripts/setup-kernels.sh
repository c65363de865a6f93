#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian kernels the VM tests boot and the module builds target.
#
# For each wanted kernel series (6.1 from bookworm, 6.12 from bookworm-backports):
#   - resolve the exact ABI version (e.g. 6.1.0-56-amd64) from the linux-image-amd64 /
#     linux-headers-amd64 metapackages of that suite, so image and headers always match;
#   - apt-install linux-headers-<ver> (gives /usr/src/linux-headers-<ver> and the
#     /lib/modules/<ver>/build symlink);
#   - apt-get download linux-image-<ver> into .cache/kernels/debs and unpack it with
#     dpkg -x (the image is never apt-installed: no initramfs, no bootloader);
#   - copy vmlinuz to .cache/kernels/<ver>/vmlinuz and the modules to /lib/modules/<ver>/,
#     run depmod <ver>;
# then write .cache/kernels/kernels.json for tests/vmharness.py, and extract checkpatch.pl
# (+ spelling.txt, const_structs.checkpatch) from Debian's linux-source-6.1 into
# .cache/checkpatch/.
#
# Idempotent: what is already in place is not downloaded again.
# Environment: KGEN_KERNEL_SERIES="6.1 6.12" restricts the series set up.
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
CACHE=$ROOT/.cache/kernels
DEBS=$CACHE/debs
CHECKPATCH_DIR=$ROOT/.cache/checkpatch
SERIES=${KGEN_KERNEL_SERIES:-6.1 6.12}
export DEBIAN_FRONTEND=noninteractive

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
log() { printf 'setup-kernels: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

mkdir -p "$CACHE" "$DEBS" "$CHECKPATCH_DIR"
# Serialise concurrent runs (several developers share this working tree).
exec 9>"$CACHE/.lock"
flock 9

# --- apt source for bookworm-backports --------------------------------------------------
ensure_backports() {
	if grep -rqsE '(^|[[:space:]])bookworm-backports([[:space:]]|$)' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; then
		return 0
	fi
	log "adding bookworm-backports apt source"
	if [ -f /etc/apt/sources.list.d/debian.sources ]; then
		# deb822 style, like the system's own entry.
		$SUDO tee /etc/apt/sources.list.d/bookworm-backports.sources >/dev/null <<-EOF
		Types: deb
		URIs: http://deb.debian.org/debian
		Suites: bookworm-backports
		Components: main
		Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
		EOF
	else
		echo "deb http://deb.debian.org/debian bookworm-backports main" |
			$SUDO tee /etc/apt/sources.list.d/bookworm-backports.list >/dev/null
	fi
	$SUDO apt-get update -qq
}

# --- version resolution -----------------------------------------------------------------
suite_of() {
	case "$1" in
	6.1) echo bookworm ;;
	6.12) echo bookworm-backports ;;
	*) die "unknown kernel series $1" ;;
	esac
}

# The metapackage version that apt would take from <suite>, e.g. 6.12.95-1~bpo12+1.
meta_version() { # <metapackage> <suite>
	local pkg=$1 suite=$2 ver
	if [ "$suite" = bookworm ]; then
		# bookworm + bookworm-security + bookworm-updates: apt's ordinary candidate.
		ver=$(apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}')
	else
		ver=$(apt-cache policy -t "$suite" "$pkg" | awk '/Candidate:/ {print $2}')
	fi
	[ -n "$ver" ] && [ "$ver" != "(none)" ] || die "no candidate for $pkg in $suite"
	echo "$ver"
}

# The ABI name the metapackage depends on, e.g. 6.1.0-56-amd64.
abi_of() { # <metapackage> <version> <prefix>
	apt-cache show "$1=$2" | sed -n 's/^Depends: //p' | head -n1 | tr ',' '\n' |
		sed -n "s/^ *$3\([^ (|]*\).*/\1/p" | head -n1
}

# --- header installation ----------------------------------------------------------------
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }

# Some linux-headers packages (bookworm-backports) depend on the matching linux-image.
# Installing the image would pull initramfs-tools and run kernel hooks; instead, satisfy
# the dependency with a tiny local package that Provides it (versioned Provides).
ensure_image_stub() { # <abi> <pkgver>
	local abi=$1 pkgver=$2 stub="thrift-kgen-image-stub-${1//[^a-z0-9.+-]/-}"
	apt-cache show "linux-headers-$abi=$pkgver" | sed -n 's/^Depends: //p' |
		grep -q "linux-image-$abi" || return 0
	pkg_installed "linux-image-$abi" && return 0
	if pkg_installed "$stub" &&
		dpkg-query -W -f='${Provides}' "$stub" | grep -qF "(= $pkgver)"; then
		return 0
	fi
	log "installing $stub (Provides: linux-image-$abi (= $pkgver)); the image itself is only unpacked"
	local d
	d=$(mktemp -d)
	mkdir -p "$d/DEBIAN"
	cat >"$d/DEBIAN/control" <<-EOF
	Package: $stub
	Version: $pkgver
	Architecture: all
	Maintainer: thrift-kgen <thrift-kgen@localhost>
	Provides: linux-image-$abi (= $pkgver)
	Section: kernel
	Priority: optional
	Description: stand-in for linux-image-$abi (thrift-kgen VM tests)
	 thrift-kgen unpacks the kernel image with dpkg -x for qemu; this package only
	 satisfies linux-headers-$abi's dependency on the image.
	EOF
	dpkg-deb --root-owner-group -b "$d" "$DEBS/$stub.deb" >/dev/null
	rm -rf "$d"
	$SUDO dpkg -i "$DEBS/$stub.deb" >/dev/null
}

# Hooks run by the headers' postinst (DKMS and friends) must not make us fail: if the
# install fails, configure again with those hooks temporarily set aside.
HOOKS_ASIDE=""
restore_hooks() {
	local f
	for f in $HOOKS_ASIDE; do $SUDO mv "$f.kgen-disabled" "$f"; done
	HOOKS_ASIDE=""
}
trap restore_hooks EXIT

install_headers() { # <abi> <pkgver>
	local abi=$1 pkgver=$2 pkg="linux-headers-$1"
	if pkg_installed "$pkg" && [ -e "/lib/modules/$abi/build/Makefile" ]; then
		return 0
	fi
	ensure_image_stub "$abi" "$pkgver"
	log "installing $pkg ($pkgver)"
	if ! $SUDO apt-get install -y -qq --no-install-recommends "$pkg=$pkgver"; then
		log "$pkg failed to configure; retrying with kernel header hooks disabled"
		local f
		for f in /etc/kernel/header_postinst.d/* /etc/kernel/postinst.d/*; do
			[ -f "$f" ] || continue
			$SUDO mv "$f" "$f.kgen-disabled"
			HOOKS_ASIDE="$HOOKS_ASIDE $f"
		done
		$SUDO dpkg --configure -a
		restore_hooks
		pkg_installed "$pkg" || die "could not install $pkg"
	fi
	[ -e "/lib/modules/$abi/build/Makefile" ] || die "/lib/modules/$abi/build is missing after installing $pkg"
}

# --- image: download, unpack, copy vmlinuz and modules ------------------------------------
install_image() { # <abi> <pkgver>
	local abi=$1 pkgver=$2 pkg="linux-image-$1" kdir="$CACHE/$1"
	local stamp="$kdir/.installed-$pkgver"
	if [ -f "$stamp" ] && [ -s "$kdir/vmlinuz" ] && [ -f "/lib/modules/$abi/modules.dep" ] &&
		[ -d "/lib/modules/$abi/kernel" ]; then
		return 0
	fi
	local deb
	deb=$(ls "$DEBS/${pkg}_${pkgver//:/%3a}_"*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$deb" ]; then
		log "downloading $pkg ($pkgver)"
		(cd "$DEBS" && apt-get download -q "$pkg=$pkgver" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
		deb=$(ls "$DEBS/${pkg}_"*.deb 2>/dev/null | grep -F "_${pkgver//:/%3a}_" | head -n1 || true)
		[ -n "$deb" ] || die "apt-get download $pkg=$pkgver failed"
	fi
	log "unpacking $(basename "$deb")"
	local x="$kdir/extract"
	rm -rf "$x"
	mkdir -p "$x"
	dpkg -x "$deb" "$x"
	install -m 0644 "$x/boot/vmlinuz-$abi" "$kdir/vmlinuz"
	for f in config System.map; do
		[ -f "$x/boot/$f-$abi" ] && install -m 0644 "$x/boot/$f-$abi" "$kdir/$f"
	done
	local mods=""
	for m in "$x/lib/modules/$abi" "$x/usr/lib/modules/$abi"; do
		[ -d "$m" ] && mods=$m
	done
	[ -n "$mods" ] || die "no modules directory in $deb"
	$SUDO mkdir -p "/lib/modules/$abi"
	# Merge into /lib/modules/<ver>: the headers package's build symlink stays.
	$SUDO cp -a "$mods/." "/lib/modules/$abi/"
	rm -rf "$x"
	log "depmod $abi"
	$SUDO depmod "$abi"
	rm -f "$kdir"/.installed-*
	touch "$stamp"
}

# --- checkpatch -------------------------------------------------------------------------
install_checkpatch() {
	local files="checkpatch.pl spelling.txt const_structs.checkpatch"
	local f ok=1
	for f in $files; do [ -s "$CHECKPATCH_DIR/$f" ] || ok=0; done
	[ $ok = 1 ] && return 0
	local ver deb
	ver=$(meta_version linux-source-6.1 bookworm)
	deb=$(ls "$DEBS"/linux-source-6.1_*.deb 2>/dev/null | head -n1 || true)
	if [ -z "$deb" ]; then
		log "downloading linux-source-6.1 ($ver) for checkpatch.pl"
		(cd "$DEBS" && apt-get download -q "linux-source-6.1=$ver" 2>&1 | grep -v '^W: Download is performed unsandboxed' >&2 || true)
		deb=$(ls "$DEBS"/linux-source-6.1_*.deb 2>/dev/null | head -n1 || true)
		[ -n "$deb" ] || die "apt-get download linux-source-6.1 failed"
	fi
	log "extracting checkpatch.pl from $(basename "$deb")"
	local t
	t=$(mktemp -d)
	dpkg-deb --fsys-tarfile "$deb" | tar -x -C "$t" --wildcards './usr/src/linux-source-6.1.tar.*'
	local src
	src=$(ls "$t"/usr/src/linux-source-6.1.tar.* | head -n1)
	tar -x -C "$t" -f "$src" $(for f in $files; do echo "linux-source-6.1/scripts/$f"; done)
	for f in $files; do
		install -m 0644 "$t/linux-source-6.1/scripts/$f" "$CHECKPATCH_DIR/$f"
	done
	chmod 0755 "$CHECKPATCH_DIR/checkpatch.pl"
	echo "$ver" >"$CHECKPATCH_DIR/VERSION"
	rm -rf "$t"
	# The 139 MB source package is not needed any more.
	rm -f "$deb"
}

# --- main -------------------------------------------------------------------------------
ensure_backports

entries=()
for s in $SERIES; do
	suite=$(suite_of "$s")
	iver=$(meta_version linux-image-amd64 "$suite")
	hver=$(meta_version linux-headers-amd64 "$suite")
	[ "$iver" = "$hver" ] || die "linux-image-amd64 ($iver) and linux-headers-amd64 ($hver) differ in $suite"
	abi=$(abi_of linux-image-amd64 "$iver" linux-image-)
	habi=$(abi_of linux-headers-amd64 "$hver" linux-headers-)
	[ -n "$abi" ] && [ "$abi" = "$habi" ] || die "cannot resolve the $s ABI ($abi / $habi)"
	case "$abi" in "$s".*) ;; *) die "series $s resolved to $abi: wrong suite?" ;; esac
	# The versioned package the metapackage points at (same source version).
	pkgver=$(apt-cache show "linux-image-$abi" | awk -v v="$iver" '/^Version:/ {if ($2 == v) print $2}' | head -n1)
	[ -n "$pkgver" ] || pkgver=$(apt-cache policy "linux-image-$abi" | awk '/Candidate:/ {print $2}')
	log "series $s: $abi ($pkgver, from $suite)"
	install_headers "$abi" "$pkgver"
	install_image "$abi" "$pkgver"
	entries+=("$(printf '{"series": "%s", "version": "%s", "package_version": "%s", "suite": "%s", "vmlinuz": "%s", "kdir": "%s"}' \
		"$s" "$abi" "$pkgver" "$suite" "$CACHE/$abi/vmlinuz" "/lib/modules/$abi/build")")
done

install_checkpatch

{
	echo "["
	n=${#entries[@]}
	for i in "${!entries[@]}"; do
		sep=","; [ "$i" -eq $((n - 1)) ] && sep=""
		echo "  ${entries[$i]}$sep"
	done
	echo "]"
} >"$CACHE/kernels.json.tmp"
mv "$CACHE/kernels.json.tmp" "$CACHE/kernels.json"
log "wrote $CACHE/kernels.json"
cat "$CACHE/kernels.json"
