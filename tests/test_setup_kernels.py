"""scripts/setup-kernels.sh --resolve-only against a stub apt-cache, and the manifest merge.

The stub prints apt-cache outputs recorded on a Debian 12 machine (tests/data/apt/,
trimmed), with and without bookworm-backports' linux-headers-amd64 metapackage installed:
with it, apt's candidate for linux-headers-amd64 is the backports 6.12 one, which the
6.1 series must not pick up. The PREEMPT_RT series (6.1-rt, 6.12-rt) come from the
linux-image-rt-amd64 / linux-headers-rt-amd64 metapackages of the same suites. No
network, no root: --resolve-only only reads apt-cache.
"""

import json
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
    "6.1-rt": "6.1-rt 6.1.0-57-rt-amd64 6.1.192-3 bookworm-security",
    "6.12-rt": "6.12-rt 6.12.95+deb12-rt-amd64 6.12.95-1~bpo12+1 bookworm-backports",
}
MANIFEST_SCRIPT = REPO / "scripts" / "kernels-manifest.py"

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


@pytest.mark.parametrize("situation", ["without-backports-meta", "with-backports-meta"])
def test_rt_series_from_the_rt_metapackages_of_their_suites(stub_bin, situation):
    r = resolve(stub_bin, RECORDINGS / situation, series="6.1 6.12 6.1-rt 6.12-rt")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [EXPECTED[s] for s in ("6.1", "6.12", "6.1-rt", "6.12-rt")]


def test_rt_metapackages_on_different_abis_fail_naming_the_rt_packages(stub_bin, tmp_path):
    rec = trimmed_copy(tmp_path, "without-backports-meta",
                       {"madison_linux-headers-rt-amd64": "bookworm-security"})
    r = resolve(stub_bin, rec, series="6.1-rt")
    assert r.returncode != 0
    assert r.stdout == ""
    assert "linux-image-rt-amd64" in r.stderr and "linux-headers-rt-amd64" in r.stderr
    assert "6.1.0-57-rt-amd64" in r.stderr and "6.1.0-50-rt-amd64" in r.stderr
    # The generic series does not look at the RT metapackages.
    r = resolve(stub_bin, rec, series="6.1")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [EXPECTED["6.1"]]


def test_metapackage_of_the_wrong_flavour_is_refused(stub_bin, tmp_path):
    """A generic series must never resolve to an RT ABI (it would boot the wrong kernel)."""
    rec = tmp_path / "rec"
    shutil.copytree(RECORDINGS / "without-backports-meta", rec)
    for pkg in ("image", "headers"):
        f = rec / f"show_linux-{pkg}-amd64=6.1.192-3"
        f.write_text(f.read_text().replace("6.1.0-57-amd64", "6.1.0-57-rt-amd64"))
    r = resolve(stub_bin, rec, series="6.1")
    assert r.returncode != 0
    assert "series 6.1 resolved to 6.1.0-57-rt-amd64" in r.stderr


def test_unknown_series_is_refused_listing_the_known_ones(stub_bin):
    r = resolve(stub_bin, RECORDINGS / "without-backports-meta", series="6.6-rt")
    assert r.returncode != 0
    assert "unknown kernel series 6.6-rt (known: 6.1 6.12 6.1-rt 6.12-rt)" in r.stderr


def _entry(tmp_path, series, version, present=True):
    kdir = tmp_path / "modules" / version / "build"
    vmlinuz = tmp_path / "kernels" / version / "vmlinuz"
    if present:
        kdir.mkdir(parents=True)
        (kdir / "Makefile").write_text("")
        vmlinuz.parent.mkdir(parents=True)
        vmlinuz.write_bytes(b"\0")
    return {"series": series, "version": version, "package_version": "1", "suite": "s",
            "vmlinuz": str(vmlinuz), "kdir": str(kdir)}


def write_manifest(path, entries):
    stdin = "".join(json.dumps(e) + "\n" for e in entries)
    r = subprocess.run(["python3", str(MANIFEST_SCRIPT), str(path)], input=stdin,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(path.read_text())


def test_manifest_keeps_other_series_and_replaces_those_set_up(tmp_path):
    """`make kernels` then `make kernels-rt` (and again `make kernels`) add up."""
    manifest = tmp_path / "kernels.json"
    generic = [_entry(tmp_path, "6.1", "6.1.0-57-amd64"), _entry(tmp_path, "6.12", "6.12.95+deb12-amd64")]
    rt = [_entry(tmp_path, "6.12-rt", "6.12.95+deb12-rt-amd64"), _entry(tmp_path, "6.1-rt", "6.1.0-57-rt-amd64")]
    assert write_manifest(manifest, generic) == generic
    both = write_manifest(manifest, rt)
    assert [e["series"] for e in both] == ["6.1", "6.12", "6.1-rt", "6.12-rt"]
    # A newer 6.1 replaces the old entry; the RT ones stay.
    newer = _entry(tmp_path, "6.1", "6.1.0-58-amd64")
    again = write_manifest(manifest, [newer])
    assert [e["version"] for e in again] == ["6.1.0-58-amd64", "6.12.95+deb12-amd64",
                                             "6.1.0-57-rt-amd64", "6.12.95+deb12-rt-amd64"]


def test_manifest_drops_entries_whose_files_are_gone(tmp_path):
    manifest = tmp_path / "kernels.json"
    gone = _entry(tmp_path, "6.1-rt", "6.1.0-57-rt-amd64", present=False)
    manifest.write_text(json.dumps([gone]))
    kept = _entry(tmp_path, "6.1", "6.1.0-57-amd64")
    assert write_manifest(manifest, [kept]) == [kept]
    # A manifest that is not JSON is rewritten from what was set up.
    manifest.write_text("[{")
    assert write_manifest(manifest, [kept]) == [kept]
