"""scripts/setup-kernels.sh --resolve-only against a stub apt-cache.

The stub prints apt-cache outputs recorded on a Debian 12 machine (tests/data/apt/,
trimmed), with and without bookworm-backports' linux-headers-amd64 metapackage installed:
with it, apt's candidate for linux-headers-amd64 is the backports 6.12 one, which the
6.1 series must not pick up. No network, no root: --resolve-only only reads apt-cache.
"""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPT = REPO / "scripts" / "setup-kernels.sh"
RECORDINGS = REPO / "tests" / "data" / "apt"

EXPECTED = {
    "6.1": "6.1 6.1.0-57-amd64 6.1.192-3 bookworm-security",
    "6.12": "6.12 6.12.95+deb12-amd64 6.12.95-1~bpo12+1 bookworm-backports",
}

# One recording per invocation, named after its arguments joined by '_'; anything not
# recorded fails, so the test also shows which apt-cache queries the resolution uses.
STUB = """#!/bin/sh
f="$KGEN_APT_RECORDING/$(printf '%s' "$*" | tr ' ' '_')"
if [ ! -f "$f" ]; then
	echo "stub apt-cache: no recording for: $*" >&2
	exit 100
fi
cat "$f"
"""

pytestmark = pytest.mark.skipif(shutil.which("dpkg") is None, reason="needs dpkg --compare-versions")


@pytest.fixture
def stub_bin(tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    stub = bin_dir / "apt-cache"
    stub.write_text(STUB)
    stub.chmod(0o755)
    return bin_dir


def resolve(stub_bin, recording, series="6.1 6.12"):
    env = dict(os.environ)
    env["PATH"] = f"{stub_bin}:{env['PATH']}"
    env["KGEN_APT_RECORDING"] = str(recording)
    env["KGEN_KERNEL_SERIES"] = series
    return subprocess.run([str(SCRIPT), "--resolve-only"], env=env, capture_output=True,
                          text=True, timeout=60)


def trimmed_copy(tmp_path, situation, drop):
    """The recording with the lines containing each drop[file] removed from that file."""
    dst = tmp_path / situation
    shutil.copytree(RECORDINGS / situation, dst)
    for name, text in drop.items():
        lines = (dst / name).read_text().splitlines(keepends=True)
        kept = [line for line in lines if text not in line]
        assert len(kept) < len(lines), f"{text!r} not in {name}"
        (dst / name).write_text("".join(kept))
    return dst


def candidate(recording, pkg):
    for line in (recording / f"policy_{pkg}").read_text().splitlines():
        if line.strip().startswith("Candidate:"):
            return line.split()[1]
    raise AssertionError(f"no Candidate in policy_{pkg}")


@pytest.mark.parametrize("situation", ["without-backports-meta", "with-backports-meta"])
def test_each_series_from_its_own_suites(stub_bin, situation):
    r = resolve(stub_bin, RECORDINGS / situation)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [EXPECTED["6.1"], EXPECTED["6.12"]]


def test_installed_backports_metapackage_is_not_the_61_candidate(stub_bin):
    """The recorded situation is the one that broke apt-candidate resolution."""
    rec = RECORDINGS / "with-backports-meta"
    assert candidate(rec, "linux-image-amd64") == "6.1.192-3"
    assert candidate(rec, "linux-headers-amd64") == "6.12.95-1~bpo12+1"
    r = resolve(stub_bin, rec, series="6.1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [EXPECTED["6.1"]]


def test_metapackages_on_different_abis_fail_naming_the_suites(stub_bin, tmp_path):
    # A mirror that has the security update of linux-image-amd64 but not yet of
    # linux-headers-amd64: the newest headers metapackage is bookworm's 6.1.176-1.
    rec = trimmed_copy(tmp_path, "without-backports-meta",
                       {"madison_linux-headers-amd64": "bookworm-security"})
    r = resolve(stub_bin, rec, series="6.1")
    assert r.returncode != 0
    assert r.stdout == ""
    assert "bookworm bookworm-security bookworm-updates" in r.stderr
    assert "6.1.0-57-amd64" in r.stderr and "6.1.0-50-amd64" in r.stderr


def test_no_backports_source_fails_naming_the_suite(stub_bin, tmp_path):
    rec = trimmed_copy(tmp_path, "without-backports-meta",
                       {"madison_linux-image-amd64": "bookworm-backports",
                        "madison_linux-headers-amd64": "bookworm-backports"})
    r = resolve(stub_bin, rec, series="6.12")
    assert r.returncode != 0
    assert "no linux-image-amd64 in 6.12's suites (bookworm-backports)" in r.stderr
    # The 6.1 series does not need backports at all.
    r = resolve(stub_bin, rec, series="6.1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [EXPECTED["6.1"]]
