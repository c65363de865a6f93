# SPDX-License-Identifier: GPL-2.0
"""Generated modules in the kernel: W=1 + sparse builds, and the forwarder in a VM.

`thrift-kgen idl/forwarder.thrift -o mod/ && make -C mod` -> forwarder.ko, loaded in
a Debian 6.1 / 6.12 guest, driven by thriftpy2 (framed, then buffered), its debugfs
counters read, unloaded; dmesg must stay clean.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from thrift_kgen.testing.vm import VENV_PYTHON, build_module, run_in_vm

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "codegen"))
from codegen_util import gen  # noqa: E402

CORPUS = Path(os.environ.get("KGEN_IDL_CORPUS", REPO.parent / "shared" / "idl-corpus"))
CLIENT = Path(__file__).resolve().parent / "generated_forwarder_client.py"


def cli_generate(idl: Path, out: Path, *args: str):
    r = subprocess.run([str(REPO / ".venv" / "bin" / "thrift-kgen"), str(idl), "-o", str(out), *args],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


@pytest.mark.kernel_build
@pytest.mark.parametrize("handler", ["skeleton", "forwarder"])
def test_forwarder_builds_w1_sparse(kernel, tmp_path, handler):
    out = tmp_path / "mod"
    if handler == "forwarder":
        out.mkdir()
        shutil.copyfile(REPO / "tests" / "codegen" / "handlers" / "forwarder_handler.c",
                        out / "forwarder_handler.c")
    cli_generate(REPO / "idl" / "forwarder.thrift", out)
    ko = build_module(out, kernel, sparse=True)
    assert ko.name == "forwarder.ko"


def corpus_cases():
    cases = {
        "ThriftTest": (CORPUS / "apache-thrift" / "test" / "ThriftTest.thrift", ["--service", "ThriftTest"]),
        "cassandra": (CORPUS / "realworld" / "cassandra" / "cassandra.thrift", []),
        "hbase": (CORPUS / "realworld" / "hbase" / "Hbase.thrift", []),
        "hbase2": (CORPUS / "realworld" / "hbase" / "thrift2" / "hbase.thrift", []),
        "parquet": (CORPUS / "realworld" / "parquet" / "parquet.thrift", []),
    }
    own = REPO / "idl" / "ThriftTest.thrift"
    if own.is_file():
        cases["ThriftTest"] = (own, ["--service", "ThriftTest"])
    return cases


@pytest.mark.kernel_build
@pytest.mark.parametrize("name", sorted(corpus_cases()))
def test_corpus_builds_w1(kernel, tmp_path, name):
    idl, args = corpus_cases()[name]
    if not idl.is_file():
        pytest.skip(f"{idl} not found (set KGEN_IDL_CORPUS)")
    out = tmp_path / "mod"
    cli_generate(idl, out, *args)
    ko = build_module(out, kernel, jobs=4)
    assert ko.name == idl.stem.lower() + ".ko"


@pytest.mark.vm
@pytest.mark.kernel_build
def test_forwarder_module_in_vm(kernel, tmp_path):
    out = tmp_path / "mod"
    out.mkdir()
    shutil.copyfile(REPO / "tests" / "codegen" / "handlers" / "forwarder_handler.c",
                    out / "forwarder_handler.c")
    cli_generate(REPO / "idl" / "forwarder.thrift", out)
    ko = build_module(out, kernel)
    script = textwrap.dedent(f"""\
        set -eux
        mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
        for t in framed buffered; do
            insmod {ko} port=9090 transport=$t max_conns=64
            grep -qx 9090 /sys/module/forwarder/parameters/port
            {VENV_PYTHON} {CLIENT} 9090 $t
            echo "STATS $t"
            cat /sys/kernel/debug/forwarder/stats
            echo "END $t"
            rmmod forwarder
            test ! -e /sys/module/forwarder
            test ! -e /sys/kernel/debug/forwarder
        done
        # a bad parameter is refused cleanly
        if insmod {ko} transport=carrier-pigeon; then exit 1; fi
        test ! -e /sys/module/forwarder
        dmesg | grep -q 'serving Forwarder on 127.0.0.1:9090'
        # an IPv6 address prints in brackets, the port apart from it
        insmod {ko} addr=::1 port=9092
        rmmod forwarder
        dmesg | grep -q 'serving Forwarder on \\[::1\\]:9092$'
        dmesg | grep -q 'Forwarder listening on \\[::1\\]:9092 (framed)$'
        """)
    res = run_in_vm(kernel, script, timeout=400)
    res.assert_ok()
    assert "OK framed 200" in res.stdout and "OK buffered 200" in res.stdout, res.describe()
    assert "unknown transport" in res.dmesg
    # debugfs counters: per load, the calls of generated_forwarder_client.py (2 clients;
    # stats x3, connect x2, close_backends, nosuch and 200 oneway msg = 207 messages)
    for t in ("framed", "buffered"):
        m = re.search(rf"^STATS {t}\n(.*?)^END {t}$", res.stdout, re.M | re.S)
        assert m, res.describe()
        st = {k: int(v) for k, v in (line.split() for line in m.group(1).splitlines())}
        print(f"{kernel} {t}: {st}")
        base = ["accepted", "refused", "closed", "messages", "bad_messages",
                "app_exceptions", "bytes_in", "bytes_out", "backpressure"]
        assert [k for k in st if k in base] == base, st
        assert {"live", "refused_max_conns", "closed_idle", "closed_message_timeout",
                "closed_bad_input"} <= set(st), st
        assert st["closed_idle"] == 0 and st["closed_bad_input"] == 0, (t, st)
        assert st["accepted"] >= 2 and st["refused"] == 0, (t, st)
        assert st["messages"] >= 207 and st["bad_messages"] == 0, (t, st)
        assert st["app_exceptions"] >= 1, (t, st)
        assert st["bytes_in"] > 0 and st["bytes_out"] > 0, (t, st)
