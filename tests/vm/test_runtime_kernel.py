# SPDX-License-Identifier: GPL-2.0
"""The runtime in a real kernel: kgen_testsvc.ko (tests/testsvc/kernel) on Debian 6.1 / 6.12.

Two scripts per kernel, in the worker's shared VMs (the checks of SMP_CHECKS in the
two-vCPU guest, the others in the one-vCPU guest), run every check of tests/vm/runtime_kernel_driver.py (the guest
driver: 100 concurrent clients, 1-byte writes, 1 MiB messages, vanishing clients,
malformed frames, the raw forwarder to 20 guest sinks exactly once, rmmod with
connections open, debugfs counters, all three workqueue modes, 1000 connect/close
pairs against max_conns=64 beside a timed good client in each mode, idle and
slowloris timeouts); the host asserts
each check's JSON result, then a clean kernel log.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from thrift_kgen.testing.vm import build_module

REPO = Path(__file__).resolve().parents[2]
RUNTIME = REPO / "thrift_kgen" / "runtime"
TESTSVC = REPO / "tests" / "testsvc"
DRIVER = Path(__file__).resolve().parent / "runtime_kernel_driver.py"

sys.path.insert(0, str(Path(__file__).resolve().parent))

CHECKS = [
    "bad_params",
    "debugfs_stats",
    "echo_raw_basic",
    "echo_raw_one_byte_writes",
    "echo_raw_100_clients_ordered",
    "echo_raw_100_clients_unbound",
    "echo_raw_100_clients_percpu",
    "echo_raw_8mib_backpressure",
    "echo_raw_half_close",
    "echo_raw_ipv6",
    "max_conns",
    "echo_msg_pipelined_framed",
    "echo_msg_pipelined_buffered",
    "echo_msg_one_byte_writes",
    "echo_msg_1mib_messages",
    "frame_over_max_frame",
    "never_ending_struct",
    "malformed_frames",
    "clients_vanishing",
    "echo_msg_100_clients",
    "forwarder_round_robin",
    "forwarder_by_key",
    "forwarder_backpressure",
    "forwarder_unbound",
    "rmmod_forwarder_live",
    "rmmod_with_open_connections",
    "memory_exhaustion",
    "idle_connections_1000",
    "slow_reader_big_replies",
    "churn_ordered",
    "churn_unbound",
    "churn_percpu",
    "timeouts",
]


def stage(dest: Path) -> Path:
    """Lay out the module sources as tests/testsvc/kernel/Kbuild expects them."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for f in ("Kbuild", "kgen_testsvc_main.c"):
        shutil.copy(TESTSVC / "kernel" / f, dest / f)
    rt = dest / "runtime"
    rt.mkdir()
    shutil.copy(RUNTIME / "Kbuild.inc", rt / "Kbuild.inc")
    for d in ("include", "core", "kernel"):
        shutil.copytree(RUNTIME / d, rt / d)
    svc = dest / "testsvc"
    svc.mkdir()
    for f in sorted(TESTSVC.glob("*.[ch]")):
        shutil.copy(f, svc / f.name)
    return dest


def test_driver_lists_every_check():
    import runtime_kernel_driver as drv
    assert sorted(drv.CHECKS) == sorted(CHECKS)


@pytest.mark.kernel_build
def test_testsvc_module_builds_w1_sparse(kernel, tmp_path):
    ko = build_module(stage(tmp_path / "src"), kernel, sparse=True, build_dir=tmp_path / "build")
    assert ko.name == "kgen_testsvc.ko"


# The checks whose point is the module's paths running on two CPUs at once (workqueue
# modes, connections torn down while a worker serves them): in the two-vCPU guest.
SMP_CHECKS = {
    "echo_raw_100_clients_ordered", "echo_raw_100_clients_unbound", "echo_raw_100_clients_percpu",
    "forwarder_unbound", "clients_vanishing", "rmmod_forwarder_live", "rmmod_with_open_connections",
    "churn_ordered", "churn_unbound", "churn_percpu",
}


def run_checks(kernel, vm_pool, tmp_path_factory, smp: bool):
    """Build kgen_testsvc.ko for @kernel (the W=1 + sparse build of the test above, shared
    through build_module's cache) and run the driver's checks of one guest in one script,
    in this worker's VM for @kernel (the pool's: no boot of its own)."""
    base = tmp_path_factory.mktemp(f"rtk-{kernel.series}-{'smp' if smp else 'up'}")
    ko = build_module(stage(base / "src"), kernel, sparse=True, build_dir=base / "build")
    checks = [c for c in CHECKS if (c in SMP_CHECKS) == smp]
    script = f"python {DRIVER} {ko} $KGEN_RESULTS/results.json {' '.join(checks)}\n"
    res = vm_pool.get(kernel, smp=smp).run(script, timeout=1500)
    path = res.results_dir / "results.json"
    results = json.loads(path.read_text()) if path.exists() else {}
    return res, results


@pytest.fixture(scope="module")
def vm_run(kernel, vm_pool, tmp_path_factory):
    return run_checks(kernel, vm_pool, tmp_path_factory, smp=False)


@pytest.fixture(scope="module")
def vm_run_smp(kernel, vm_pool, tmp_path_factory):
    return run_checks(kernel, vm_pool, tmp_path_factory, smp=True)


@pytest.mark.vm
@pytest.mark.kernel_build
@pytest.mark.parametrize("check", [pytest.param(c, marks=pytest.mark.vm_smp) if c in SMP_CHECKS else c
                                   for c in CHECKS])
def test_runtime_in_kernel(request, kernel, check):
    res, results = request.getfixturevalue("vm_run_smp" if check in SMP_CHECKS else "vm_run")
    entry = results.get(check)
    assert entry is not None, f"check {check} did not run\n{res.describe()}"
    assert entry["ok"], f"{check}: {entry['error']}\nfacts: {entry['facts']}"


# One test per guest's run: a module-scoped fixture asked for again after its guest's block
# of tests would run its script again.
RUNS = ["vm_run", pytest.param("vm_run_smp", marks=pytest.mark.vm_smp)]


@pytest.mark.vm
@pytest.mark.kernel_build
@pytest.mark.parametrize("run", RUNS)
def test_figures(request, kernel, run):
    """The headline numbers: what was served and delivered, per kernel."""
    _, results = request.getfixturevalue(run)
    facts = {k: v["facts"] for k, v in results.items() if v.get("ok")}
    mine = {"echo_raw_100_clients_ordered", "forwarder_by_key", "echo_msg_1mib_messages",
            "churn_ordered", "churn_unbound", "churn_percpu"}
    mine = {c for c in mine if (c in SMP_CHECKS) == (run == "vm_run_smp")}
    assert mine and mine <= set(facts), f"figures missing (their checks failed): {sorted(mine - set(facts))}"
    if "echo_raw_100_clients_ordered" in facts:
        assert facts["echo_raw_100_clients_ordered"]["clients"] == 100
    if "forwarder_by_key" in facts:
        f = facts["forwarder_by_key"]
        assert f["delivered_exactly_once"] == f["messages"] == 2000
    if "echo_msg_1mib_messages" in facts:
        assert facts["echo_msg_1mib_messages"]["messages"] == 8
    for mode in ("ordered", "unbound", "percpu"):
        f = facts.get(f"churn_{mode}")
        if f:
            print(f"churn {mode}: good client max {f['max_ms']} ms, p99 {f['p99_ms']} ms, "
                  f"refused {f['stats']['refused']}")
            assert f["stats"]["refused"] == 0 and f["max_ms"] < 1000, f


@pytest.mark.vm
@pytest.mark.kernel_build
@pytest.mark.parametrize("run", RUNS)
def test_guest_exit_and_dmesg_clean(request, kernel, run):
    res, _ = request.getfixturevalue(run)
    res.assert_ok()
    assert "kgen_testsvc: serving echo_raw" in res.dmesg, res.describe()
