# SPDX-License-Identifier: GPL-2.0
"""thrift_kgen/runtime/Makefile: the user-space library builds (plain and sanitized)
from wildcards, rebuilds only what changed, and cleans."""
import subprocess
from pathlib import Path

import pytest

RUNTIME = Path(__file__).resolve().parents[2] / "thrift_kgen" / "runtime"
MINE = {"arena.o", "mem.o", "proto.o", "proto_binary.o", "frame.o"}


def make(*args):
    return subprocess.run(["make", "-C", str(RUNTIME), *args], capture_output=True,
                          text=True, timeout=600)


def members(lib):
    out = subprocess.run(["ar", "t", str(lib)], capture_output=True, text=True, check=True)
    return set(out.stdout.split())


@pytest.mark.parametrize("san", [False, True], ids=["plain", "san"])
def test_library_builds_from_every_source(tmp_path, san):
    build = tmp_path / "build"
    args = [f"BUILD={build}"] + (["SAN=1"] if san else [])
    res = make(*args)
    assert res.returncode == 0, res.stdout + res.stderr
    lib = build / ("user-san" if san else "user") / "libkgen.a"
    assert lib.is_file()
    expected = {p.stem + ".o" for d in ("core", "user") for p in (RUNTIME / d).glob("*.c")}
    assert MINE <= expected
    assert members(lib) == expected
    if san:
        assert "-fsanitize=address,undefined" in res.stdout
        assert "-fno-sanitize-recover=all" in res.stdout
    for flag in ("-std=gnu11", "-Wall", "-Wextra", "-Werror", "-Iinclude"):
        assert flag in res.stdout
    # Nothing to do the second time.
    again = make(*args)
    assert again.returncode == 0 and " -c " not in again.stdout, again.stdout
    res = make(*args, "clean")
    assert res.returncode == 0 and not build.exists()


def test_dependency_files_track_headers(tmp_path):
    build = tmp_path / "build"
    assert make(f"BUILD={build}").returncode == 0
    arena_h = RUNTIME / "include" / "kgen" / "arena.h"
    # Touch through the dependency files: make must rebuild arena.o.
    obj = build / "user" / "core" / "arena.o"
    dep = obj.with_suffix(".d")
    assert str(arena_h.relative_to(RUNTIME)) in dep.read_text()
