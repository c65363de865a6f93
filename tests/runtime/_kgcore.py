# SPDX-License-Identifier: GPL-2.0
"""Helpers for the runtime core's tests: C programs built with ASan+UBSan."""
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUNTIME = ROOT / "thrift_kgen" / "runtime"
CDIR = Path(__file__).resolve().parent / "c"

CFLAGS = ["-std=gnu11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
          "-O1", "-g", "-fno-omit-frame-pointer",
          "-fsanitize=address,undefined", "-fno-sanitize-recover=all"]

# Programs under tests/runtime/c/ and what they need.
PROGRAMS = ["test_arena", "test_mem", "test_proto", "test_compact", "test_frame", "test_tsock",
            "test_resume", "fuzz",
            "kgwalk"]

# Beyond the protocol core: test_tsock runs tsock over a real bsock (its
# socket and event calls are stubs in the test itself).
EXTRA_SOURCES = {"test_tsock": ["tsock.c", "bsock.c"], "test_mem": ["bsock.c"]}

SAN_ENV = dict(os.environ,
               ASAN_OPTIONS="abort_on_error=0:detect_leaks=0:halt_on_error=1",
               UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")


def core_sources():
    """The portable protocol core (not others' bsock/tsock: these tests are
    about the wire format, and must not break when other layers change)."""
    core = RUNTIME / "core"
    srcs = [core / "arena.c", core / "mem.c", core / "frame.c"] + sorted(core.glob("proto*.c"))
    return [str(s) for s in srcs]


def c_cases(program):
    """Case names a kt.h test program defines, read from its KT_MAIN."""
    text = (CDIR / f"{program}.c").read_text()
    return re.findall(r"KT_CASE\((\w+)\)", text)


def build_programs(out):
    """Build every C test program into @out; returns name -> path."""
    out = Path(out)
    bins = {}
    for prog in PROGRAMS:
        exe = out / prog
        cmd = (["gcc"] + CFLAGS + ["-I", str(RUNTIME / "include"),
                                   "-I", str(RUNTIME / "core"), "-I", str(CDIR),
                                   str(CDIR / f"{prog}.c")] + core_sources()
               + [str(RUNTIME / "core" / f) for f in EXTRA_SOURCES.get(prog, [])]
               + ["-o", str(exe)])
        res = subprocess.run(cmd, capture_output=True, text=True)
        if res.returncode != 0:
            pytest.fail(f"building {prog} failed:\n{' '.join(cmd)}\n{res.stderr}")
        bins[prog] = exe
    return bins


def run_c(exe, *args, input=None, timeout=120, env=None):
    return subprocess.run([str(exe), *map(str, args)], input=input, capture_output=True,
                          timeout=timeout, env=dict(SAN_ENV, **(env or {})))
