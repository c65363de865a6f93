"""UDP for oneway-only services (listen=udp/both): the Jaeger agent IDL, built as a
user-space server with ASan and UBSan, fed Jaeger-style emitBatch datagrams.

The handler (tests/codegen/handlers/agent_handler.c) counts spans and prints its counts
on request (tests/vm/jaeger_udp_client.py has the client and the scenarios, shared with
the VM test tests/vm/test_agent_udp_vm.py).
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading

import pytest

from codegen_util import REPO, gen, make

sys.path.insert(0, str(REPO / "tests" / "vm"))
import jaeger_udp_client as jc  # noqa: E402

IDL = REPO / "tests" / "data" / "jaeger" / "agent.thrift"


@pytest.fixture(scope="module")
def agent_bin(tmp_path_factory):
    out = tmp_path_factory.mktemp("agent")
    gen(IDL, out, handler="agent_handler.c")
    r = make(out, "user", env={"SAN": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    return out / "agent_user"


class AgentServer:
    """agent_user on a free port; its stdout lines (the handler's) collected as they come."""

    def __init__(self, binary, *args):
        self.proc = subprocess.Popen([str(binary), "--port", "0", "--max-frame", str(jc.MAX_FRAME),
                                      *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        first = self.proc.stdout.readline()
        m = re.search(r":(\d+)\s*$", first)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"server did not start: {first!r} {self.proc.stderr.read()}")
        self.port = int(m.group(1))
        self.out: list[str] = []
        self.err: list[str] = []
        # One reader per pipe, each to its end: communicate() would race the stdout reader
        # for the last lines (the exit line was lost that way on a loaded host).
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.err_reader = threading.Thread(target=self._read_err, daemon=True)
        self.err_reader.start()
        self.lines = jc.Lines(lambda: list(self.out))

    def _read(self):
        for line in self.proc.stdout:
            self.out.append(line.rstrip("\n"))

    def _read_err(self):
        for line in self.proc.stderr:
            self.err.append(line)

    def stop(self):
        """SIGTERM; the counters it prints on exit, and its stderr."""
        self.proc.terminate()
        self.proc.wait(timeout=30)
        self.reader.join(30)
        self.err_reader.join(30)
        err = "".join(self.err)
        assert self.proc.returncode == 0, err
        assert "AddressSanitizer" not in err and "runtime error" not in err, err
        stats = dict(re.findall(r"^(\w+) (\d+)$", err, re.M))
        return {k: int(v) for k, v in stats.items()}, err

    def exit_line(self):
        m = re.search(r"agent: exit batches (\d+) spans (\d+) idsum (\d+)", "\n".join(self.out))
        assert m, self.out[-5:]
        return {"batches": int(m.group(1)), "spans": int(m.group(2)), "idsum": int(m.group(3))}


@pytest.mark.parametrize("proto", ["compact", "binary"])
def test_udp_counts_each_span_once(agent_bin, proto):
    srv = AgentServer(agent_bin, "--listen", "udp", "--protocol", proto)
    c = jc.Client(srv.port, proto, srv.lines, report_base=1)
    res = jc.scenario_counts(c)
    st, _ = srv.stop()
    for expect, got in res["reports"]:
        assert got == expect
    assert srv.exit_line() == res["expect"]
    assert st["dgrams_in"] == res["sent"], st
    assert st["dgrams_dropped"] == 0 and st["dgrams_lost"] == 0, st
    assert st["messages"] == res["sent"], st
    assert st["accepted"] == 0, st          # UDP only: no TCP listener
    assert st["mem_in_use"] == 0, st


@pytest.mark.parametrize("proto", ["compact", "binary"])
def test_udp_malformed_dropped(agent_bin, proto):
    srv = AgentServer(agent_bin, "--listen", "udp", "--protocol", proto)
    c = jc.Client(srv.port, proto, srv.lines, report_base=1)
    res = jc.scenario_malformed(c)
    st, _ = srv.stop()
    for name, after in res["after"].items():
        assert after == res["before"], name       # nothing counted, however malformed
    assert res["before"]["spans"] == 0
    assert st["dgrams_dropped"] == res["kinds"], st
    assert st["dgrams_in"] == res["sent"], st
    assert st["messages"] == res["reports"], st
    assert st["mem_in_use"] == 0 and st["mem_peak"] > jc.MAX_FRAME, st


@pytest.mark.parametrize("proto", ["compact", "binary"])
def test_udp_flood_does_not_stall_tcp(agent_bin, proto):
    srv = AgentServer(agent_bin, "--listen", "both", "--protocol", proto, "--budget", "16")
    c = jc.Client(srv.port, proto, srv.lines, report_base=1)
    res = jc.scenario_flood(c, srv.port)
    reports_seen = srv.lines.count(jc.REPORT_RE)
    st, _ = srv.stop()
    print(proto, res, {k: st[k] for k in ("dgrams_in", "dgrams_dropped", "dgrams_lost", "accepted")})
    assert res["tcp_seen"] == res["tcp_batches"], res
    assert st["accepted"] == 1 and st["dgrams_dropped"] == 0, st
    flood_taken = st["dgrams_in"] - reports_seen
    assert 0 < flood_taken <= res["flood_sent"], (res, st)
    # every span once: the TCP ones and those of every flood datagram taken
    assert res["final"]["spans"] == res["tcp_spans"] + flood_taken, (res, st)
    assert st["dgrams_in"] + st["dgrams_lost"] <= res["flood_sent"] + res["sent"], (res, st)
    assert st["mem_in_use"] == 0, st


def test_udp_out_of_memory_dropped(agent_bin):
    """A datagram whose decoding needs more arena than the budget has left is dropped."""
    srv = AgentServer(agent_bin, "--listen", "udp", "--protocol", "compact",
                      "--mem-budget", "40000")
    c = jc.Client(srv.port, "compact", srv.lines, report_base=1)
    big = jc.encode(jc.batch("svc", range(1, 230), tags=0), "compact")
    assert len(big) <= jc.MAX_FRAME
    c.send(big)
    after_big = c.report()
    c.send(jc.encode(jc.batch("svc", [7, 8]), "compact"))
    after_small = c.report()
    st, _ = srv.stop()
    assert after_big["spans"] == 0 and after_small["spans"] == 2, (after_big, after_small)
    assert st["dgrams_dropped"] == 1 and st["dgrams_in"] == 4, st
    assert st["mem_peak"] <= 40000 and st["mem_in_use"] == 0, st


def test_udp_no_budget_for_the_buffer(agent_bin):
    p = subprocess.run([str(agent_bin), "--port", "0", "--listen", "udp", "--mem-budget", "4096"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 1 and "cannot serve UDP" in p.stderr, p.stderr


def test_udp_ipv6(agent_bin):
    srv = AgentServer(agent_bin, "--listen", "both", "--addr", "::1", "--protocol", "compact")
    c = jc.Client(srv.port, "compact", srv.lines, report_base=1, host="::1")
    res = jc.scenario_counts(c, batches=20)
    st, err = srv.stop()
    assert res["reports"][-1][1] == res["expect"], res
    assert st["dgrams_in"] == res["sent"] and st["dgrams_dropped"] == 0, st
    assert re.search(r"listening on \[::1\]:\d+ \(UDP", err), err


def test_listen_udp_refused_for_twoway_service(tmp_path):
    """A service with a method that is not oneway cannot serve UDP: the start says which."""
    out = tmp_path / "calc"
    gen(REPO / "idl" / "forwarder.thrift", out)
    r = make(out, "user")
    assert r.returncode == 0, r.stdout + r.stderr
    for listen in ("udp", "both"):
        p = subprocess.run([str(out / "forwarder_user"), "--port", "0", "--listen", listen],
                           capture_output=True, text=True, timeout=30)
        assert p.returncode == 1, p
        assert re.search(rf"listen={listen}: Forwarder\.\w+ is not oneway", p.stderr), p.stderr
    p = subprocess.run([str(out / "forwarder_user"), "--listen", "carrier-pigeon"],
                       capture_output=True, text=True, timeout=30)
    assert p.returncode == 2 and 'unknown listen "carrier-pigeon"' in p.stderr, p.stderr
