# SPDX-License-Identifier: GPL-2.0
"""The benchmarks' programs build and agree, so that `make bench` does not rot.

Not timed: these run the peers of bench/run.py on the host (user space) and check what
they answer, byte for byte; bench/codec/run.py --check builds the codec benchmark and
compares every implementation's encodings.  The kthread echo module builds clean.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))

import run as bench  # noqa: E402
from thrift_kgen.testing.vm import build_module  # noqa: E402

CHECKPATCH = REPO / ".cache" / "checkpatch" / "checkpatch.pl"


def have_apache() -> bool:
    return (shutil.which("thrift") is not None
            and Path("/usr/include/thrift/server/TNonblockingServer.h").exists()
            and Path("/usr/include/boost/numeric/conversion/cast.hpp").exists())


def have_libevent() -> bool:
    return Path("/usr/include/event2/bufferevent.h").exists()


needs_apache = pytest.mark.skipif(not have_apache(), reason="libthrift-dev / libboost-dev not installed"
                                  " (scripts/setup-apt.sh)")


def free_ports(n: int) -> int:
    """The first of n consecutive free TCP ports on 127.0.0.1, below the ephemeral range,
    in a band of this xdist worker's own: the bases used to come from the pid, and two
    workers with neighbouring pids probed overlapping ranges, so one worker's servers and
    clients could take the ports another had just found free (a CI run's forwarder rounds
    all failed once, with another worker's connections on their sink ports)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    band = 1600                                  # 8 workers in 20000-32799
    lo = 20000 + (index % 8) * band
    for base in range(lo + os.getpid() % 29, lo + band - n, 29):
        socks = []
        try:
            for p in range(base, base + n):
                s = socket.socket()
                s.bind(("127.0.0.1", p))
                socks.append(s)
            return base
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise RuntimeError("no free ports")


class Server:
    """A server process; started() waits until it prints "listening"."""

    def __init__(self, cmd: list, env: dict | None = None):
        self.proc = subprocess.Popen([str(c) for c in cmd], stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True,
                                     env={**os.environ, **(env or {})})
        deadline = time.monotonic() + 30
        seen = []
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                break
            seen.append(line)
            if "listening" in line:
                return
        self.stop()
        raise AssertionError(f"{cmd[0]} did not start: {''.join(seen)}")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def client(*args) -> dict:
    p = subprocess.run([str(bench.build_client()), *map(str, args)], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout.splitlines()[-1])


def user_build(example: str) -> Path:
    ex = REPO / "examples" / example
    subprocess.run(["make", "-s", "-C", str(ex), "user"], check=True, stdout=subprocess.DEVNULL)
    return ex / f"{example}_user"


@needs_apache
def test_codec_encodings_identical():
    """kgen's C, Apache C++ (both builds) and thriftpy2 write the same bytes for every value."""
    p = subprocess.run([sys.executable, str(REPO / "bench" / "codec" / "run.py"), "--check"],
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stdout + p.stderr
    assert "encodings identical" in p.stdout


def echo_servers():
    yield "kgen user", [user_build("echo"), "--port", "{port}", "--transport", "framed"], {"ECHO_RAW_PORT": "-1"}
    if have_apache():
        apache = bench.build_apache("echo", "Echo", "echo_server.cpp", types=False)
        yield "apache nonblocking", [apache, "nonblocking", "{port}"], {}
        yield "apache threaded", [apache, "threaded", "{port}"], {}


def test_echo_peers_answer_byte_for_byte():
    """Every Thrift echo peer returns each call's bytes (techo compares every reply)."""
    names = []
    for name, cmd, env in echo_servers():
        port = free_ports(1)
        srv = Server([str(c).format(port=port) for c in cmd], env)
        try:
            for size in (32, 4096):
                r = client("techo", "127.0.0.1", port, size, 50)
                assert r["rounds"] == 50 and r["bytes"] == 2 * 50 * size, (name, r)
        finally:
            srv.stop()
        names.append(name)
    assert names[0] == "kgen user"


def test_raw_echo_user_answers():
    subprocess.run(["make", "-s", "-C", str(REPO / "tests" / "testsvc")], check=True,
                   stdout=subprocess.DEVNULL)
    port = free_ports(1)
    srv = Server([REPO / "tests" / "testsvc" / "build" / "user" / "kgen-testsvc", "--service", "echo_raw",
                  "--port", port])
    try:
        r = client("echo", "127.0.0.1", port, 128, 100)
        assert r["bytes"] == 2 * 100 * 128
    finally:
        srv.stop()


def forwarders():
    yield "kgen user", lambda port, first, n: ([user_build("forwarder"), "--port", port, "--transport",
                                                "framed"], True)
    if have_apache():
        apache = bench.build_apache("forwarder", "Forwarder", "forwarder_server.cpp", types=True)
        yield "apache nonblocking", lambda port, first, n: ([apache, "nonblocking", port], True)
        yield "apache threaded", lambda port, first, n: ([apache, "threaded", port], True)
    if have_libevent():
        lev = bench.build_libevent_fwd()
        yield "libevent", lambda port, first, n: ([lev, port, "127.0.0.1", first, n], False)


def test_forwarder_peers_deliver_the_same_bytes():
    """One client's messages reach each sink identically through every forwarder peer."""
    backends, count, payload = 4, 200, 32
    msg = bench.fwd_msg_bytes(payload)
    hashes = {}
    for name, make in forwarders():
        base = free_ports(backends + 1)
        port, first = base, base + 1
        sinks = []
        for b in range(backends):
            share = count // backends      # keys 0, 1, 2, 3, 0, ...: an even split
            sinks.append(subprocess.Popen([str(bench.build_client()), "sink", str(first + b),
                                           str(share * msg), "hash"], stdout=subprocess.PIPE,
                                          text=True))
        for s in sinks:
            assert "listening" in s.stdout.readline()
        cmd, connect = make(port, first, backends)
        srv = Server([str(c) for c in cmd])
        try:
            if connect:
                assert client("connect", "127.0.0.1", port, "127.0.0.1", first, backends)["connected"] == backends
            client("fwd", "127.0.0.1", port, payload, count, backends, 0)
            got = [json.loads(s.communicate(timeout=60)[0].splitlines()[-1]) for s in sinks]
        finally:
            srv.stop()
            for s in sinks:
                if s.poll() is None:
                    s.kill()
        assert [g["bytes"] for g in got] == [count // backends * msg] * backends, (name, got)
        hashes[name] = [g["fnv1a"] for g in got]
    assert len(hashes) >= 1
    first_name = next(iter(hashes))
    for name, h in hashes.items():
        assert h == hashes[first_name], f"{name} delivered other bytes than {first_name}"


@pytest.mark.kernel_build
def test_kthread_echo_builds_clean(kernel, tmp_path):
    """The blocking kthread echo peer: W=1 and sparse clean, checkpatch clean."""
    ko = build_module(REPO / "bench" / "peers" / "kthread_echo", kernel, sparse=True,
                      build_dir=tmp_path / "build")
    assert ko.name == "kthread_echo.ko"
    if CHECKPATCH.is_file():
        p = subprocess.run(["perl", str(CHECKPATCH), "--no-tree", "-f", "--terse",
                            str(REPO / "bench" / "peers" / "kthread_echo" / "kthread_echo.c")],
                           capture_output=True, text=True)
        assert p.returncode == 0 and not p.stdout.strip(), p.stdout


def guest_script(tmp_path: Path, build) -> tuple[Path, dict]:
    """bench/run.py's guest script, run on the host (its working files in tmp_path)."""
    s = bench.Script()
    s.add(bench.GUEST_PREAMBLE.format(client=bench.build_client()))
    build(s)
    script = tmp_path / "script.sh"
    script.write_text(s.text())
    (tmp_path / "res").mkdir()
    return script, {**os.environ, "KGEN_BENCH_DIR": str(tmp_path / "b"), "KGEN_RESULTS": str(tmp_path / "res")}


def test_a_stuck_round_fails_and_the_run_goes_on(tmp_path):
    """A peer that never answers fails its round (guest-side time-out, status 124) and is
    recorded; the next round still runs (the cause of hung runs: nothing had a time-out)."""
    port = free_ports(1)

    def build(s):
        # The "server" accepts and reads, never replies: connect() waits for its reply.
        s.round("forwarder stuck 32 0", 2, [f"KGEN_BENCH_TIMEOUT=0 $B/kgen-bench sink {port} 1000 > $B/x.out &"
                                            " track $!",
                                            "wait_for $B/x.out listening $!",
                                            f"$B/kgen-bench connect 127.0.0.1 {port} 127.0.0.1 1 1"])
        s.round("forwarder fine 32 0", 5, ["$B/kgen-bench snap > $B/y.out",
                                           "rec forwarder fine 32 0 s0 $B/y.out"])
    script, env = guest_script(tmp_path, build)
    p = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    recs = bench.load_rounds(tmp_path / "res" / "rounds.jsonl")
    assert recs[("forwarder", "stuck", 32, 0)]["fail"] == {"status": 124}
    assert bench.round_failure(recs[("forwarder", "stuck", 32, 0)]).startswith("failed (status 124")
    assert "kgen-bench" in (tmp_path / "res" / "failed.txt").read_text()
    assert "fail" not in recs[("forwarder", "fine", 32, 0)] and "ctxt" in recs[("forwarder", "fine", 32, 0)]["s0"]


def test_forwarder_rounds_back_to_back(tmp_path):
    """Two peers, two rounds each, as in the VM: every round delivers every byte, each
    with its switch counts (a server's stale "listening" line once made the libevent
    round's clients connect before it listened, and the run hang)."""
    if not have_libevent():
        pytest.skip("libevent-dev not installed")
    port = free_ports(bench.FWD_BACKENDS + 1)
    ko = {"forwarder_user": user_build("forwarder"), "libevent_fwd": bench.build_libevent_fwd()}
    script, env = guest_script(tmp_path, lambda s: bench.forwarder_script(
        s, ["user", "libevent"], [32], 2, 16, ko, port=port, sink_port=port + 1))
    p = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    recs = bench.load_rounds(tmp_path / "res" / "rounds.jsonl")
    rows, medians, failed = bench.forwarder_summary(recs, ["user", "libevent"], [32], 16)
    assert not failed and len(rows) == 4, (failed, p.stderr)
    assert all(r["server_csw_per_msg"] is not None and r["guest_csw"] > 0 for r in rows)
    assert [m["rounds"] for m in medians] == [2, 2]


def test_report_writes_benchmarks_md_from_the_committed_results(tmp_path):
    """bench/report.py renders the committed results with every note current (--strict):
    a template error or a note left stale after a new run fails here, not at `make bench`."""
    out = tmp_path / "BENCHMARKS.md"
    p = subprocess.run([sys.executable, str(REPO / "bench" / "report.py"), "--strict", "--out", str(out)],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    text = out.read_text()
    assert "## Issue 10's targets" in text and "Stale, not shown" not in text
    assert "## Reproduce" in text and "profile-{echo,techo}-<peer>-32.txt" in text


def test_report_names_the_host_each_run_recorded(tmp_path):
    """The machine line comes from the results (bench/run.py records its host), never from
    the host that renders the report: one host for all runs is one line, several are named
    run by run, and a run that recorded none says so."""
    res = tmp_path / "results"
    shutil.copytree(REPO / "bench" / "results", res)
    assert "host" in json.loads((REPO / "bench" / "results" / "forwarder.json").read_text())

    def render() -> str:
        out = tmp_path / "B.md"
        p = subprocess.run([sys.executable, str(REPO / "bench" / "report.py"), "--results", str(res),
                            "--out", str(out)], capture_output=True, text=True, timeout=120)
        assert p.returncode == 0, p.stdout + p.stderr
        return next(line for line in out.read_text().splitlines() if line.startswith("Machine"))

    paths = [res / "echo.json", res / "forwarder.json", res / "techo.json",
             res / "6.12" / "echo.json", res / "6.12" / "forwarder.json"]
    for i, path in enumerate(paths):
        d = json.loads(path.read_text())
        d["host"] = "Test CPU A" if i < 3 else "Test CPU B"
        path.write_text(json.dumps(d))
    line = render()
    assert line.startswith("Machines: ") and line.count("(host: Test CPU A)") == 2, line
    assert line.count("(host: Test CPU B)") == 1, line
    for path in paths:
        d = json.loads(path.read_text())
        d["host"] = "Test CPU A"
        path.write_text(json.dumps(d))
    assert render().startswith("Machine: Test CPU A. "), render()
    d = json.loads(paths[0].read_text())
    del d["host"]
    paths[0].write_text(json.dumps(d))
    assert "(host: host not recorded)" in render()
