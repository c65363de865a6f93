# SPDX-License-Identifier: GPL-2.0
"""Client driver of examples/forwarder (the paper's section 3.3 forwarder).

The checks (CHECKS) take a Target and run against the user-space server or the
kernel module alike.  The fan-out check is the paper's set-up: 20 backend sinks
(one Python process each, reading the forwarded Thrift messages with a small parser)
and 8 client processes sending oneway msg(key, payload); every message must arrive
exactly once, at backend (key mod 20), in order per client and backend.

Also runnable as programs (the checks start them; scripts/demo.py too):

    python -m clients.sink --transport T --out FILE      prints "port N" (stdlib only)
    python -m clients.forwarder client --port P --transport T --cid I --count N [--backends B]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import random
import socket
import sys
import time
from collections import defaultdict
from pathlib import Path

from thriftpy2.thrift import TApplicationException

from .common import Target, load_idl, wait_for
from .sink import sink_main

fw = load_idl("forwarder.thrift", "forwarder_thrift")

NSINKS = 20
NCLIENTS = 8
PER_CLIENT = 250


# --------------------------------------------------------------------------------------
# Programs: sink and client
# --------------------------------------------------------------------------------------

def client_keys(cid: int, count: int, nbackends: int) -> list[int]:
    """The keys client `cid` sends: every backend gets its share, keys may be negative."""
    rnd = random.Random(cid)
    return [rnd.randrange(-5 * nbackends, 50 * nbackends) for _ in range(count)]


def client_main(target: Target, cid: int, count: int, nbackends: int, pad: int) -> int:
    c = target.client(fw.Forwarder)
    for seq, key in enumerate(client_keys(cid, count, nbackends)):
        c.msg(key, f"{cid}:{seq}:" + "x" * pad)
    # A round trip: every msg before it was served once the reply arrives.
    c.stats()
    c.close()
    return 0


# --------------------------------------------------------------------------------------
# Sinks as processes
# --------------------------------------------------------------------------------------

_mp = multiprocessing.get_context("fork")


def _sink_proc(transport: str, out: str, conn) -> None:
    sink_main(transport, Path(out), ready=conn)


def _client_proc(target: Target, cid: int, count: int, nbackends: int, pad: int) -> None:
    sys.exit(client_main(target, cid, count, nbackends, pad))


class Sinks:
    """n sink processes (forked: nothing to import again, fast also in a slow VM)."""

    def __init__(self, n: int, transport: str, workdir: Path):
        workdir.mkdir(parents=True, exist_ok=True)
        self.files = [workdir / f"sink-{i}.jsonl" for i in range(n)]
        for f in self.files:
            f.unlink(missing_ok=True)
        self.procs = []
        self.ports = []
        pipes = []
        for f in self.files:
            parent, child = _mp.Pipe()
            p = _mp.Process(target=_sink_proc, args=(transport, str(f), child), daemon=True)
            p.start()
            child.close()
            self.procs.append(p)
            pipes.append(parent)
        for parent in pipes:
            if not parent.poll(60):
                self.stop()
                raise AssertionError("a sink did not start")
            self.ports.append(parent.recv())
            parent.close()

    def records(self) -> list[list[dict]]:
        out = []
        for f in self.files:
            recs = []
            if f.exists():
                for line in f.read_text().splitlines():
                    if line.endswith("}"):
                        recs.append(json.loads(line))
            out.append(recs)
        return out

    def count(self) -> int:
        return sum(len(r) for r in self.records())

    def stop(self):
        for p in self.procs:
            if p.is_alive():
                p.terminate()
        for p in self.procs:
            p.join(10)
            if p.is_alive():
                p.kill()
                p.join()


def start_clients(target: Target, nclients: int, per_client: int, nbackends: int, pad: int):
    """nclients client processes (forked), each sending per_client messages."""
    procs = [_mp.Process(target=_client_proc, args=(target, cid, per_client, nbackends, pad))
             for cid in range(nclients)]
    for p in procs:
        p.start()
    return procs


def backends_of(ports):
    return [fw.Backend(addr="127.0.0.1", port=p) for p in ports]


def run_fanout(target: Target, workdir: Path, *, nsinks: int = NSINKS, nclients: int = NCLIENTS,
               per_client: int = PER_CLIENT, pad: int = 16, timeout: float = 120) -> dict:
    """The paper's set-up; returns a summary (and asserts every property)."""
    workdir.mkdir(parents=True, exist_ok=True)
    ctl = target.client(fw.Forwarder)
    sinks = Sinks(nsinks, target.transport, workdir)
    try:
        ctl.connect(backends_of(sinks.ports))
        before = ctl.stats()
        assert before.backends == nsinks, before
        t0 = time.monotonic()
        clients = start_clients(target, nclients, per_client, nsinks, pad)
        for p in clients:
            p.join(timeout)
            assert p.exitcode == 0, f"client exited {p.exitcode}"
        total = nclients * per_client
        wait_for(lambda: sinks.count() >= total, timeout, f"{total} messages at the sinks")
        elapsed = time.monotonic() - t0
        time.sleep(0.2)     # anything extra (duplicates) would show up now
        recs = sinks.records()
        after = ctl.stats()
    finally:
        sinks.stop()
        try:
            ctl.close_backends()
        finally:
            ctl.close()
    errors = [r for rs in recs for r in rs if "error" in r]
    assert not errors, errors[:5]
    keys = {cid: client_keys(cid, per_client, nsinks) for cid in range(nclients)}
    seen = defaultdict(int)
    last = {}
    table = []
    for b, rs in enumerate(recs):
        for r in rs:
            assert r["name"] == "msg" and r["type"] == 4, r      # ONEWAY
            assert r["key"] % nsinks == b, f"key {r['key']} at backend {b}"
            assert keys[r["cid"]][r["seq"]] == r["key"], r
            seen[(r["cid"], r["seq"])] += 1
            k = (r["cid"], b)
            assert last.get(k, -1) < r["seq"], f"client {r['cid']} out of order at backend {b}"
            last[k] = r["seq"]
        table.append({"backend": b, "messages": len(rs), "bytes": sum(r["len"] for r in rs),
                      "first_key": rs[0]["key"] if rs else None,
                      "last_key": rs[-1]["key"] if rs else None})
    dup = [k for k, n in seen.items() if n != 1]
    assert not dup, f"{len(dup)} messages arrived more than once, e.g. {dup[:5]}"
    want = {(cid, seq) for cid in range(nclients) for seq in range(per_client)}
    assert set(seen) == want, f"missing {sorted(want - set(seen))[:10]}"
    assert after.forwarded - before.forwarded == total, (before, after)
    assert after.dropped - before.dropped == 0, (before, after)
    return {"messages": total, "seconds": round(elapsed, 2), "table": table}


# --------------------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------------------

def check_fanout_8_clients_20_backends(t: Target, workdir: Path):
    s = run_fanout(t, workdir / "fanout")
    print(f"  {s['messages']} messages from {NCLIENTS} clients to {NSINKS} backends "
          f"in {s['seconds']} s")


def check_connect_errors(t: Target, workdir: Path):
    c = t.client(fw.Forwarder)
    try:
        for bad, why in [([fw.Backend(addr="127.0.0.1", port=1)] * 65, "too many backends"),
                         ([fw.Backend(addr="not an address", port=1)], "cannot connect"),
                         ([fw.Backend(addr="", port=1)], "bad backend address"),
                         ([fw.Backend(addr="x" * 100, port=1)], "bad backend address"),
                         ([fw.Backend(addr="127.0.0.1\0", port=1)], "bad backend address"),
                         ([fw.Backend(addr="127.0.0.1", port=0)], "bad backend port"),
                         ([fw.Backend(addr="127.0.0.1", port=70000)], "bad backend port"),
                         ([fw.Backend(addr="127.0.0.1", port=-5)], "bad backend port")]:
            try:
                c.connect(bad)
                raise AssertionError(f"no BackendError for {bad[:1]}")
            except fw.BackendError as e:
                assert e.message == why, (e, why)
                assert e.errno_value > 0, e
        st = c.stats()
        assert st.backends == 0, st
        # No backends: messages are counted as dropped, the connection goes on.
        d0 = st.dropped
        for k in range(5):
            c.msg(k, "nowhere")
        st = c.stats()
        assert st.dropped - d0 == 5, st
        # Zero backends is a valid set.
        c.connect([])
        assert c.stats().backends == 0
        c.close_backends()
    finally:
        c.close()


def check_reconnect_replaces_backends(t: Target, workdir: Path):
    """connect() twice: messages go to the second set only; close_backends() empties it."""
    workdir = workdir / "reconnect"
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "a").mkdir(exist_ok=True)
    (workdir / "b").mkdir(exist_ok=True)
    a = Sinks(2, t.transport, workdir / "a")
    b = Sinks(3, t.transport, workdir / "b")
    c = t.client(fw.Forwarder)
    try:
        c.connect(backends_of(a.ports))
        for k in range(4):
            c.msg(k, f"0:{k}:a")
        c.stats()
        wait_for(lambda: a.count() == 4, 30, "4 messages at the first set")
        c.connect(backends_of(b.ports))
        assert c.stats().backends == 3
        for k in range(6):
            c.msg(k, f"0:{k}:b")
        c.stats()
        wait_for(lambda: b.count() == 6, 30, "6 messages at the second set")
        assert a.count() == 4
        assert [len(r) for r in b.records()] == [2, 2, 2]
        c.close_backends()
        assert c.stats().backends == 0
    finally:
        a.stop()
        b.stop()
        c.close()


def check_unknown_method_and_bad_args(t: Target, workdir: Path):
    import io

    import thriftpy2

    other = thriftpy2.load_fp(io.StringIO(
        "service Forwarder { i32 nosuch(), void connect(1: string backends) }"),
        module_name="forwarder_other_thrift")
    oc = t.client(other.Forwarder)
    try:
        try:
            oc.nosuch()
            raise AssertionError("no exception for an unknown method")
        except TApplicationException as e:
            assert e.type == TApplicationException.UNKNOWN_METHOD, e
        # connect() with a string where a list is expected: skipped as an unknown
        # field type mismatch -> the list is missing; the server must not crash.
        try:
            oc.connect("127.0.0.1:1")
        except TApplicationException:
            pass
    finally:
        oc.close()
    c = t.client(fw.Forwarder)
    try:
        c.stats()
    finally:
        c.close()


def check_garbage_input(t: Target, workdir: Path):
    """Bytes that are not Thrift close that connection only; the server goes on."""
    import struct as st

    junk = [b"\xff" * 64, st.pack("!i", 0x7fffffff) + b"x" * 100, st.pack("!i", -1) * 8,
            b"GET / HTTP/1.0\r\n\r\n", st.pack("!i", 12) + b"\x80\x01\x00\x01" + st.pack("!i", 1 << 30)]
    for j in junk:
        s = socket.create_connection((t.host, t.port), timeout=10)
        try:
            s.sendall(j)
            s.shutdown(socket.SHUT_WR)
            s.settimeout(10)
            while s.recv(4096):
                pass
        except (ConnectionError, socket.timeout):
            pass
        finally:
            s.close()
    c = t.client(fw.Forwarder)
    try:
        c.stats()
    finally:
        c.close()


CHECKS = [check_connect_errors, check_unknown_method_and_bad_args, check_garbage_input,
          check_reconnect_replaces_backends, check_fanout_8_clients_20_backends]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="clients.forwarder")
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("client")
    c.add_argument("--port", type=int, required=True)
    c.add_argument("--transport", default="framed")
    c.add_argument("--cid", type=int, required=True)
    c.add_argument("--count", type=int, default=PER_CLIENT)
    c.add_argument("--backends", type=int, default=NSINKS)
    c.add_argument("--pad", type=int, default=16)
    a = ap.parse_args(argv)
    return client_main(Target(port=a.port, transport=a.transport), a.cid, a.count, a.backends, a.pad)


if __name__ == "__main__":
    sys.exit(main())
