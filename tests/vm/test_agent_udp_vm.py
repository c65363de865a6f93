# SPDX-License-Identifier: GPL-2.0
"""UDP in the kernel: the Jaeger agent module (tests/data/jaeger/agent.thrift) with
listen=udp and listen=both, fed Jaeger-style emitBatch datagrams in a 6.1 / 6.12 guest.

One script in the worker's shared VM of the series (the `vm` fixture) runs every scenario of tests/vm/jaeger_udp_client.py (the same as the
user-space test tests/codegen/test_agent_udp.py): exact span counts in compact (ordered
workqueue) and binary (per-CPU workqueue), malformed and oversized datagrams dropped and
counted, a UDP flood that does not stall a TCP client (listen=both), the refusal of
listen=udp for a service with a two-way method, and unloads that leave nothing behind;
the harness checks dmesg.
"""

from __future__ import annotations

import json
import re
import shutil
import sys
import textwrap
from pathlib import Path

import pytest

from thrift_kgen.testing.vm import VENV_PYTHON, build_module

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "codegen"))
from codegen_util import gen  # noqa: E402

CLIENT = Path(__file__).resolve().parent / "jaeger_udp_client.py"
MAX_FRAME = 16384  # as jaeger_udp_client.MAX_FRAME


def stats_block(stdout: str, tag: str) -> dict[str, int]:
    m = re.search(rf"^STATS {tag}\n(.*?)^END {tag}$", stdout, re.M | re.S)
    assert m, f"no stats for {tag}"
    return {k: int(v) for k, v in (line.split() for line in m.group(1).splitlines())}


def result(stdout: str, tag: str) -> dict:
    m = re.search(rf"^RESULT {tag} (.*)$", stdout, re.M)
    assert m, f"no result for {tag}"
    return json.loads(m.group(1))


@pytest.mark.vm
@pytest.mark.kernel_build
def test_agent_udp_in_vm(vm, kernel, tmp_path):
    agent_dir = tmp_path / "agent"
    gen(REPO / "tests" / "data" / "jaeger" / "agent.thrift", agent_dir, handler="agent_handler.c")
    ko = build_module(agent_dir, kernel, sparse=True)
    fwd_dir = tmp_path / "fwd"
    gen(REPO / "idl" / "forwarder.thrift", fwd_dir)
    fwd = build_module(fwd_dir, kernel, sparse=True)  # test_forwarder_builds_w1_sparse[skeleton]'s build
    py = f"{VENV_PYTHON} {CLIENT}"
    stats = "/sys/kernel/debug/agent/stats"
    script = textwrap.dedent(f"""\
        set -eux -o pipefail
        mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
        show() {{ echo "STATS $1"; cat {stats}; echo "END $1"; }}
        base=100000
        for pw in compact:0 binary:2; do
            p=${{pw%:*}}; w=${{pw#*:}}
            insmod {ko} listen=udp protocol=$p port=6831 max_frame={MAX_FRAME} wq_mode=$w
            {py} 6831 $p counts,malformed $base | sed "s/^RESULT /RESULT $p-/"
            show $p
            rmmod agent
            test ! -e /sys/module/agent
            dmesg | grep 'agent: exit batches' | tail -1 | sed "s/^.*agent: /EXIT $p /"
            base=$((base + 100000))
        done
        insmod {ko} listen=both protocol=compact port=6832 max_frame={MAX_FRAME} budget=16
        {py} 6832 compact flood 900000
        show flood
        echo "REPORTS $(dmesg | grep -c 'agent: report 9[0-9][0-9][0-9][0-9][0-9] ')"
        rmmod agent
        # a service with a two-way method cannot serve UDP; the reason names it
        for l in udp both; do
            if insmod {fwd} listen=$l port=6833; then exit 1; fi
            dmesg | grep -q "listen=$l: Forwarder.connect is not oneway"
        done
        if insmod {ko} listen=carrier-pigeon; then exit 1; fi
        dmesg | grep -q 'unknown listen "carrier-pigeon"'
        test ! -e /sys/module/agent && test ! -e /sys/module/forwarder
        """)
    res = vm.run(script, timeout=1500)
    res.assert_ok()
    check_output(res.stdout, kernel)


def check_output(out: str, kernel="?"):
    """The guest's counts, as the script above prints them."""
    for p in ("compact", "binary"):
        counts = result(out, f"{p}-counts")
        for expect, got in counts["reports"]:
            assert got == expect, (p, expect, got)
        bad = result(out, f"{p}-malformed")
        for name, after in bad["after"].items():
            assert after == bad["before"], (p, name)
        assert bad["before"] == counts["expect"], bad
        st = stats_block(out, p)
        print(kernel, p, counts["expect"], {k: st[k] for k in ("dgrams_in", "dgrams_dropped",
                                                             "dgrams_lost", "mem_peak")})
        assert st["dgrams_in"] == counts["sent"] + bad["sent"], st
        assert st["dgrams_dropped"] == bad["kinds"], st
        assert st["messages"] == st["dgrams_in"] - bad["kinds"], st
        assert st["dgrams_lost"] == 0 and st["accepted"] == 0, st
        m = re.search(rf"^EXIT {p} exit batches (\d+) spans (\d+) idsum (\d+)$", out, re.M)
        assert m, out[-2000:]
        assert [int(x) for x in m.groups()] == [counts["expect"][k] for k in ("batches", "spans", "idsum")]

    flood = result(out, "flood")
    st = stats_block(out, "flood")
    reports = int(re.search(r"^REPORTS (\d+)$", out, re.M).group(1))
    print(kernel, "flood", flood, {k: st[k] for k in ("dgrams_in", "dgrams_dropped", "dgrams_lost",
                                                     "accepted", "mem_peak")})
    assert flood["tcp_seen"] == flood["tcp_batches"], flood
    assert st["accepted"] == 1 and st["dgrams_dropped"] == 0, st
    taken = st["dgrams_in"] - reports
    assert 0 < taken <= flood["flood_sent"], (flood, st)
    # every span once: the final report was served after every flood datagram taken
    assert flood["final"]["spans"] == flood["tcp_spans"] + taken, (flood, st)
    assert st["dgrams_in"] + st["dgrams_lost"] <= flood["flood_sent"] + flood["sent"], (flood, st)
