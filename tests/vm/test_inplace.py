# SPDX-License-Identifier: GPL-2.0
"""Messages served straight from the socket's receive pages (issue 10), on Debian 6.1 / 6.12.

kgen_testsvc.ko (the build of test_runtime_kernel.py, shared through build_module's cache)
driven by tests/vm/inplace_driver.py in the worker's VM: a pipelined stream (most bytes
served in place: rx_inplace_bytes), frames straddling segment ends at every kind of
place (pieces of 1..65536 bytes, each its own skb), unframed messages across segments,
truncated huge frames, closes and resets mid-stream, a forwarder whose backends stop
reading (handlers refusing in the middle of borrowed pages) - every reply byte for byte
the request (echo_msg), a good client served throughout, then a clean kernel log
(slub_debug, KFENCE, lockdep: no page reference leaked or freed twice).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from thrift_kgen.testing.vm import build_module

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from test_runtime_kernel import stage  # noqa: E402

DRIVER = HERE / "inplace_driver.py"

CHECKS = [
    "inplace_stream",
    "inplace_straddles",
    "inplace_buffered",
    "inplace_hostile",
    "inplace_forwarder_backpressure",
]


def test_driver_lists_every_check():
    import inplace_driver as drv
    assert sorted(drv.CHECKS) == sorted(CHECKS)


@pytest.fixture(scope="module")
def inplace_run(kernel, vm_pool, tmp_path_factory):
    base = tmp_path_factory.mktemp(f"inplace-{kernel.series}")
    ko = build_module(stage(base / "src"), kernel, sparse=True, build_dir=base / "build")
    script = f"python {DRIVER} {ko} $KGEN_RESULTS/results.json {' '.join(CHECKS)}\n"
    res = vm_pool.get(kernel).run(script, timeout=900)
    path = res.results_dir / "results.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    for name, e in results.items():
        print(f"  {name}: {'ok' if e['ok'] else 'FAILED'} ({e['seconds']} s) "
              f"{json.dumps(e['facts'])[:600]}")
    return res, results


@pytest.mark.vm
@pytest.mark.kernel_build
@pytest.mark.parametrize("check", CHECKS)
def test_inplace(inplace_run, check):
    res, results = inplace_run
    entry = results.get(check)
    assert entry is not None, f"check {check} did not run\n{res.describe()}"
    assert entry["ok"], f"{check}: {entry['error']}\nfacts: {entry['facts']}"


@pytest.mark.vm
@pytest.mark.kernel_build
def test_inplace_dmesg_clean(inplace_run):
    res, _ = inplace_run
    res.assert_ok()
