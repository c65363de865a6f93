# SPDX-License-Identifier: GPL-2.0
"""The runtime core's C unit tests (tests/runtime/c/test_*.c), one pytest
case per C case, and a bounded deterministic fuzz loop; all under
ASan + UBSan, so any memory error or undefined behaviour fails the test."""
import re

import pytest

from _kgcore import c_cases, run_c

UNITS = ("test_arena", "test_mem", "test_proto", "test_compact", "test_frame", "test_tsock",
         "test_resume")
UNIT = [(prog, case) for prog in UNITS for case in c_cases(prog)]


def test_cases_found():
    # Guards the regex: an empty parametrization would silently pass.
    assert len(UNIT) >= 45


@pytest.mark.parametrize("prog,case", UNIT, ids=[f"{p}.{c}" for p, c in UNIT])
def test_c_unit(cbin, prog, case):
    res = run_c(cbin[prog], case)
    out = res.stdout.decode() + res.stderr.decode()
    assert res.returncode == 0, out
    assert f"ok {case}" in out, out


def test_c_list_matches_source(cbin):
    # The program's own list and the source agree (nothing registered twice).
    for prog in UNITS:
        res = run_c(cbin[prog], "--list")
        assert res.stdout.decode().split() == c_cases(prog)


@pytest.mark.parametrize("proto", ["binary", "compact"])
@pytest.mark.parametrize("seed", [1, 2, 3, 0xdeadbeef])
def test_fuzz_reader_and_framing(cbin, seed, proto):
    res = run_c(cbin["fuzz"], 150000, seed, proto, timeout=300)
    out = res.stdout.decode() + res.stderr.decode()
    assert res.returncode == 0, out
    m = re.search(r"ok (\d+) iterations: (\d+) valid, (\d+) short, (\d+) malformed, "
                  r"(\d+) over limits", out)
    assert m, out
    # Every verdict is reached, so the invariants were exercised on each.
    assert int(m.group(1)) == 150000
    assert all(int(m.group(i)) > 1000 for i in range(2, 6)), out
