#!/bin/sh
# Debian packages the build and the tests need. Idempotent: installs only what is missing.
set -eu
pkgs="build-essential bc flex bison libelf-dev sparse libthrift-dev libboost-dev libevent-dev python3-venv \
      qemu-system-x86 qemu-utils busybox-static kmod cpio zstd xz-utils \
      udev iproute2 thrift-compiler dkms clang libclang-rt-14-dev"
missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO=sudo
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing
