#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Install the Debian kernels the VM tests boot and the module builds target.
#
# For each wanted kernel series (6.1 from bookworm, bookworm-security and bookworm-updates,
# 6.12 from bookworm-backports; 6.1-rt and 6.12-rt are Debian's PREEMPT_RT builds of the
# same suites):
#   - resolve the exact ABI version (e.g. 6.1.0-56-amd64, 6.1.0-56-rt-amd64) from the newest
#     linux-image-<flavour> / linux-headers-<flavour> metapackages (flavour amd64 or
#     rt-amd64) of those suites only (whatever is installed), so image and headers always
#     match;
#   - apt-install linux-headers-<ver> (gives /usr/src/linux-headers-<ver> and the
#     /lib/modules/<ver>/build symlink);
#   - apt-get download linux-image-<ver> into .cache/kernels/debs and unpack it with
#     dpkg -x (the image is never apt-installed: no initramfs, no bootloader);
#   - copy vmlinuz to .cache/kernels/<ver>/vmlinuz and the modules to /lib/modules/<ver>/,
#     run depmod <ver>;
# then write .cache/kernels/kernels.json for thrift_kgen/testing/vm.py (the series set up now;
# entries of other series already there are kept while their files exist, so
# `make kernels` and `make kernels-rt` add up), and extract checkpatch.pl
# (+ spelling.txt, const_structs.checkpatch) from Debian's linux-source-6.1 into
# .cache/checkpatch/.
#
# Idempotent: what is already in place is not downloaded again.
# Environment: KGEN_KERNEL_SERIES, default "6.1 6.12": the series set up; the RT ones are
# only set up when named (`make kernels-rt`: KGEN_KERNEL_SERIES="6.1-rt 6.12-rt").
# --resolve-only: print "<series> <abi> <package version> <suite>" per series and stop
# (reads apt's lists only; changes nothing, needs no root).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$(pwd)
# The physical path: worktrees may share one cache through a .cache symlink, and the
# paths written to kernels.json must stay valid for all of them.
CACHE_ROOT=$(realpath -m "$ROOT/.cache")
CACHE=$CACHE_ROOT/kernels
DEBS=$CACHE/debs
CHECKPATCH_DIR=$CACHE_ROOT/checkpatch
SERIES=${KGEN_KERNEL_SERIES:-6.1 6.12}
export DEBIAN_FRONTEND=noninteractive

SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
log() { printf 'setup-kernels: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

RESOLVE_ONLY=0
case "${1:-}" in
"") ;;
--resolve-only) RESOLVE_ONLY=1 ;;
*) die "usage: $0 [--resolve-only]" ;;
esac

if [ "$RESOLVE_ONLY" = 0 ]; then
	mkdir -p "$CACHE" "$DEBS" "$CHECKPATCH_DIR"
	# Serialise concurrent runs (several developers share this working tree).
	exec 9>"$CACHE/.lock"
	flock 9
fi

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
# Each series comes from its own suites only. apt's candidate is not used: it follows
# what is installed (with bookworm-backports' linux-headers-amd64 installed, the
# candidate of linux-headers-amd64 is the backports one, for "6.1" too).
series_suites() {
	case "$1" in
	6.1 | 6.1-rt) echo "bookworm bookworm-security bookworm-updates" ;;
	6.12 | 6.12-rt) echo "bookworm-backports" ;;
	*) die "unknown kernel series $1 (known: 6.1 6.12 6.1-rt 6.12-rt)" ;;
	esac
}

# The package flavour: linux-image-<flavour> is the metapackage, <abi> ends in -<flavour>.
series_flavour() {
	case "$1" in
	*-rt) echo rt-amd64 ;;
	*) echo amd64 ;;
	esac
}

# "<package file><TAB><codename>" for each apt package file, the package file spelt as
# apt-cache madison prints it ("URI dist/component arch Packages"): a source may name
# its suite by an alias (oldstable-security), the codename (n=) is what we match.
SUITE_MAP=""
load_suite_map() {
	[ -n "$SUITE_MAP" ] && return 0
	SUITE_MAP=$(apt-cache policy | awk '
		/^ *-?[0-9]+ / { $1 = ""; file = substr($0, 2); next }
		/^ *release / && file != "" {
			if (match($0, /n=[^,]*/)) print file "\t" substr($0, RSTART + 2, RLENGTH - 2)
			file = ""
		}')
}

# "<version> <suite>" for each version of <pkg> that an apt source offers from one of
# <suites> (installed versions count only through the source they came from).
offered_versions() { # <pkg> <suites...>
	local pkg=$1
	shift
	load_suite_map
	apt-cache madison "$pkg" | awk -F'|' -v pkg="$pkg" -v suites=" $* " '
		FNR == NR { split($0, kv, "\t"); code[kv[1]] = kv[2]; next }
		{
			for (i = 1; i <= 3; i++) { gsub(/^[ \t]+|[ \t]+$/, "", $i); gsub(/[ \t]+/, " ", $i) }
			if ($1 != pkg) next
			if ($3 in code) s = code[$3]
			else { split($3, w, " "); s = w[2]; sub(/\/.*/, "", s) }
			if (index(suites, " " s " ")) print $2, s
		}' <(printf '%s\n' "$SUITE_MAP") -
}

# The newest "<version> <suite>" of <pkg> in <suites>; empty if none offers it.
newest_version() { # <pkg> <suites...>
	local best="" ver suite
	while read -r ver suite; do
		if [ -z "$best" ] || dpkg --compare-versions "$ver" gt "${best%% *}"; then
			best="$ver $suite"
		fi
	done < <(offered_versions "$@")
	echo "$best"
}

# The ABI name the metapackage depends on, e.g. 6.1.0-56-amd64.
abi_of() { # <metapackage> <version> <prefix>
	apt-cache show "$1=$2" | sed -n 's/^Depends: //p' | head -n1 | tr ',' '\n' |
		sed -n "s/^ *$3\([^ (|]*\).*/\1/p" | head -n1
}

# Sets ABI (6.1.0-57-amd64), PKGVER (6.1.192-3) and PKG_SUITE (bookworm-security): the
# newest linux-image-amd64 and linux-headers-amd64 of the series' suites, which must
# depend on the same ABI, and that ABI's image and headers packages, which must have
# the same newest version there.
resolve_series() { # <series>
	local s=$1 suites flavour iv hv iabi habi ipkg hpkg
	suites=$(series_suites "$s")
	flavour=$(series_flavour "$s")
	local image=linux-image-$flavour headers=linux-headers-$flavour
	local where="in $s's suites ($suites)"
	iv=$(newest_version $image $suites)
	hv=$(newest_version $headers $suites)
	[ -n "$iv" ] || die "no $image $where; apt-cache madison $image lists what the apt sources offer"
	[ -n "$hv" ] || die "no $headers $where; apt-cache madison $headers lists what the apt sources offer"
	iabi=$(abi_of $image "${iv%% *}" linux-image-)
	habi=$(abi_of $headers "${hv%% *}" linux-headers-)
	[ -n "$iabi" ] && [ "$iabi" = "$habi" ] ||
		die "series $s: $image ${iv/ / from } depends on '$iabi', $headers ${hv/ / from } on '$habi', newest $where: they must name the same ABI"
	# 6.1.0-57-amd64 for 6.1, 6.1.0-57-rt-amd64 for 6.1-rt (and not the other way round).
	case "$flavour:$iabi" in
	rt-amd64:"${s%-rt}".*-rt-amd64) ;;
	amd64:*-rt-amd64) die "series $s resolved to $iabi $where" ;;
	amd64:"$s".*-amd64) ;;
	*) die "series $s resolved to $iabi $where" ;;
	esac
	ipkg=$(newest_version "linux-image-$iabi" $suites)
	hpkg=$(newest_version "linux-headers-$iabi" $suites)
	[ -n "$ipkg" ] && [ "${ipkg%% *}" = "${hpkg%% *}" ] ||
		die "series $s: linux-image-$iabi '${ipkg/ / from }' and linux-headers-$iabi '${hpkg/ / from }', newest $where, differ"
	ABI=$iabi
	PKGVER=${ipkg%% *}
	PKG_SUITE=${ipkg##* }
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
	ver=$(newest_version linux-source-6.1 $(series_suites 6.1))
	[ -n "$ver" ] || die "no linux-source-6.1 in $(series_suites 6.1)"
	ver=${ver%% *}
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
if [ "$RESOLVE_ONLY" = 1 ]; then
	for s in $SERIES; do
		resolve_series "$s"
		printf '%s %s %s %s\n' "$s" "$ABI" "$PKGVER" "$PKG_SUITE"
	done
	exit 0
fi

ensure_backports

entries=()
for s in $SERIES; do
	resolve_series "$s"
	suite=$(series_suites "$s")
	suite=${suite%% *}
	log "series $s: $ABI ($PKGVER, from $PKG_SUITE)"
	install_headers "$ABI" "$PKGVER"
	install_image "$ABI" "$PKGVER"
	entries+=("$(printf '{"series": "%s", "version": "%s", "package_version": "%s", "suite": "%s", "vmlinuz": "%s", "kdir": "%s"}' \
		"$s" "$ABI" "$PKGVER" "$suite" "$CACHE/$ABI/vmlinuz" "/lib/modules/$ABI/build")")
done

install_checkpatch

# The series set up now, plus the manifest's other series whose files are still there.
printf '%s\n' "${entries[@]}" | python3 "$ROOT/scripts/kernels-manifest.py" "$CACHE/kernels.json"
log "wrote $CACHE/kernels.json"
cat "$CACHE/kernels.json"
