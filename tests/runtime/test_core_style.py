# SPDX-License-Identifier: GPL-2.0
"""Kernel style of the runtime core: checkpatch --strict and kernel-doc."""
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CHECKPATCH = REPO / ".cache" / "checkpatch" / "checkpatch.pl"
CORE = ["thrift_kgen/runtime/core/arena.c", "thrift_kgen/runtime/core/mem.c", "thrift_kgen/runtime/include/kgen/mem.h", "thrift_kgen/runtime/core/proto.c", "thrift_kgen/runtime/core/proto_binary.c",
        "thrift_kgen/runtime/core/proto_compact.c", "thrift_kgen/runtime/core/proto_internal.h", "thrift_kgen/runtime/core/frame.c",
        "thrift_kgen/runtime/include/kgen/arena.h", "thrift_kgen/runtime/include/kgen/frame.h",
        "thrift_kgen/runtime/core/dgram.c", "thrift_kgen/runtime/include/kgen/dgram.h",
        "tests/runtime/kmod/selftest_main.c"]
# compat.h's user-space half defines the kernel's own names (typedefs,
# attributes, volatile accessors): only these complaints are expected there.
COMPAT_EXPECTED = ("PREFER_KERNEL_TYPES", "PREFER_DEFINED_ATTRIBUTE_MACRO",
                   "COMPLEX_MACRO", "VOLATILE", "MACRO_ARG_REUSE", "NEW_TYPEDEFS",
                   "EXPORT_SYMBOL", "MACRO_ARG_PRECEDENCE")


def checkpatch(*paths, extra=()):
    if not CHECKPATCH.is_file():
        pytest.skip(f"{CHECKPATCH} missing (scripts/setup-kernels.sh extracts it)")
    return subprocess.run(["perl", str(CHECKPATCH), "--no-tree", "-f", "--strict", "--terse",
                           "--show-types", *extra, *paths], cwd=REPO, capture_output=True,
                          text=True)


@pytest.mark.parametrize("path", CORE)
def test_checkpatch_strict_clean(path):
    res = checkpatch(path)
    # --terse prints one line per problem and nothing when clean.
    assert res.returncode == 0 and not res.stdout.strip(), res.stdout + res.stderr


def test_checkpatch_compat_only_expected():
    res = checkpatch("thrift_kgen/runtime/include/kgen/compat.h")
    lines = [line for line in res.stdout.splitlines() if not line.startswith("total:")]
    assert lines, "checkpatch printed nothing: did its output format change?"
    bad = [line for line in lines if not any(f":{t}:" in line for t in COMPAT_EXPECTED)]
    assert not bad, "\n".join(bad)


def test_kernel_doc_clean():
    kdoc = sorted(Path("/usr/src").glob("linux-headers-*/scripts/kernel-doc"))
    if not kdoc:
        pytest.skip("no kernel-doc script (linux-headers not installed)")
    res = subprocess.run(["perl", str(kdoc[-1]), "-none", "-Wall", *CORE,
                          "thrift_kgen/runtime/include/kgen/proto.h"],
                         cwd=REPO, capture_output=True, text=True)
    assert res.returncode == 0 and not res.stderr.strip(), res.stderr
