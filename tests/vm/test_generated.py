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

from thrift_kgen.testing.vm import VENV_PYTHON, build_module

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
def test_forwarder_module_in_vm(vm, kernel, tmp_path):
    out = tmp_path / "mod"
    out.mkdir()
    shutil.copyfile(REPO / "tests" / "codegen" / "handlers" / "forwarder_handler.c",
                    out / "forwarder_handler.c")
    cli_generate(REPO / "idl" / "forwarder.thrift", out)
    # sparse=True: the build of test_forwarder_builds_w1_sparse[forwarder] (cached, whichever runs first)
    ko = build_module(out, kernel, sparse=True)
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
    res = vm.run(script, timeout=400)
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


AUTO_CLIENT = Path(__file__).resolve().parent / "protocol_auto_client.py"


@pytest.mark.vm
@pytest.mark.kernel_build
def test_protocol_auto_and_two_modules_in_vm(vm, kernel, tmp_path):
    """protocol=auto (the default) in the kernel: thriftpy2's strict binary, old binary and
    compact clients, framed and buffered, all at once on one forwarder.ko (transport=auto),
    each answered in its protocol; protocol=binary still refuses a compact client. Beside it a
    second generated module (echo.ko, a skeleton): dmesg tells the two apart (KBUILD_MODNAME
    prefixes) and each has its own workqueue (printed by pr_debug through dyndbg)."""
    fwd, echo = tmp_path / "fwd", tmp_path / "echo"
    fwd.mkdir()
    shutil.copyfile(REPO / "tests" / "codegen" / "handlers" / "forwarder_handler.c",
                    fwd / "forwarder_handler.c")
    cli_generate(REPO / "idl" / "forwarder.thrift", fwd)
    cli_generate(REPO / "idl" / "echo.thrift", echo)
    fwd_ko, echo_ko = build_module(fwd, kernel, sparse=True), build_module(echo, kernel)
    script = textwrap.dedent(f"""\
        set -eux
        mountpoint -q /sys/kernel/debug || mount -t debugfs none /sys/kernel/debug
        insmod {fwd_ko} port=9090 transport=auto 'dyndbg=+p'
        insmod {echo_ko} port=9091 wq_mode=1 'dyndbg=+p'
        grep -qx auto /sys/module/forwarder/parameters/protocol
        grep -qx auto /sys/module/echo/parameters/protocol
        {VENV_PYTHON} {AUTO_CLIENT} 9090 40
        {VENV_PYTHON} - <<'PY'
        import socket, struct
        # the echo skeleton answers a compact call in compact (an exception: not implemented)
        s = socket.create_connection(("127.0.0.1", 9091), 30)
        body = b"\\x82\\x21\\x07\\x04echo\\x00"
        s.sendall(struct.pack(">i", len(body)) + body)
        head = b""
        while len(head) < 6:
            more = s.recv(6 - len(head))
            assert more, head
            head += more
        assert head[4:6] == b"\\x82\\x61", head   # compact, type EXCEPTION (3 << 5 | 1)
        s.close()
        PY
        echo "STATS"
        cat /sys/kernel/debug/forwarder/stats
        echo "END"
        rmmod forwarder
        insmod {fwd_ko} port=9090 protocol=binary
        if {VENV_PYTHON} - <<'PY'
        from thriftpy2.protocol import TCompactProtocolFactory
        import thriftpy2, thriftpy2.rpc
        fw = thriftpy2.load("{REPO}/idl/forwarder.thrift", module_name="forwarder_thrift")
        c = thriftpy2.rpc.make_client(fw.Forwarder, "127.0.0.1", 9090, timeout=30000,
                                      proto_factory=TCompactProtocolFactory())
        c.stats()
        PY
        then exit 1; fi
        echo "STATS_BINARY"
        cat /sys/kernel/debug/forwarder/stats
        echo "END_BINARY"
        rmmod forwarder
        rmmod echo
        """)
    res = vm.run(script, timeout=900)
    res.assert_ok()
    assert "OK 6 40" in res.stdout, res.describe()

    def stats(tag):
        m = re.search(rf"^{tag}\n(.*?)^END{tag[5:]}$", res.stdout, re.M | re.S)
        assert m, res.describe()
        return {k: int(v) for k, v in (line.split() for line in m.group(1).splitlines())}

    st = stats("STATS")
    print(f"{kernel} auto: {st}")
    assert st["conns_binary"] == 4 and st["conns_compact"] == 2, st
    assert st["bad_messages"] == 0 and st["closed_bad_input"] == 0, st
    assert st["messages"] >= 6 * 40 * 2, st
    st = stats("STATS_BINARY")
    assert st["bad_messages"] == 1 and st["closed_bad_input"] == 1, st
    assert st["conns_binary"] == 1 and st["conns_compact"] == 0, st
    # Two modules at once: every line says whose it is, and each has its own workqueue.
    assert re.search(r"\] forwarder: Forwarder listening on 127\.0\.0\.1:9090 \(framed or "
                     r"buffered\)$", res.dmesg, re.M), res.dmesg
    assert re.search(r"\] echo: Echo listening on 127\.0\.0\.1:9091 \(framed\)$", res.dmesg,
                     re.M), res.dmesg
    assert re.search(r"\] forwarder: event: workqueue forwarder_ev$", res.dmesg, re.M), res.dmesg
    assert re.search(r"\] echo: event: workqueue echo_ev_unbound$", res.dmesg, re.M), res.dmesg
    assert not re.search(r"kgen-(server|tsock|bsock)|kgen_ev", res.dmesg), res.dmesg
