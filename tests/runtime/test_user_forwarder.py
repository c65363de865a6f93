"""fwd_raw: whole Thrift messages forwarded to backends without re-encoding.

8 client processes send oneway `msg(1: i32 key, 2: string payload)` calls
through the user-space forwarder to 20 backend sinks (the paper's section
3.3 set-up, on loopback). Every message must arrive exactly once, byte for
byte, at the right backend, in order per client and key.
"""

import multiprocessing
import os
import random
import selectors
import socket
import struct
import threading
import time

import pytest

from _testsvc import (STOP, T_EXCEPTION, T_ONEWAY, Server, build, closed_by_peer,
                      field_i32, field_string, framed, message, parse_header,
                      recv_frame)

pytestmark = pytest.mark.xdist_group("runtime-user-server")

NBACKENDS = 20
NCLIENTS = 8


@pytest.fixture(scope="module", autouse=True)
def testsvc_binary():
    return build()


def msg_bytes(key, client, seq, pad):
    payload = b"%d:%d:" % (client, seq) + pad
    return message("msg", T_ONEWAY, seq, field_i32(1, key) + field_string(2, payload) + STOP)


def parse_msg(m):
    name, mtype, seqid, off = parse_header(m)
    assert (name, mtype) == ("msg", T_ONEWAY)
    ftype, fid, key = struct.unpack_from(">bhi", m, off)
    assert (ftype, fid) == (8, 1)
    ftype, fid, n = struct.unpack_from(">bhI", m, off + 7)
    assert (ftype, fid) == (11, 2)
    payload = m[off + 14: off + 14 + n]
    assert m[off + 14 + n:] == STOP
    client, seq, _ = payload.split(b":", 2)
    return key, int(client), int(seq), seqid


class Sinks:
    """NBACKENDS listening sockets served by one selector thread; records
    each framed message as (backend, raw bytes) in arrival order."""

    def __init__(self, n, stall=0.0, addr="127.0.0.1"):
        self.sel = selectors.DefaultSelector()
        self.listeners = []
        self.received = [[] for _ in range(n)]
        self.count = 0
        self.stall_until = time.monotonic() + stall
        self.stop = threading.Event()
        for i in range(n):
            ls = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
            ls.bind((addr, 0))
            ls.listen(16)
            ls.setblocking(False)
            self.sel.register(ls, selectors.EVENT_READ, ("listen", i))
            self.listeners.append(ls)
        self.ports = [ls.getsockname()[1] for ls in self.listeners]
        self.addr = addr
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        bufs = {}
        while not self.stop.is_set():
            if time.monotonic() < self.stall_until:
                time.sleep(0.01)     # a slow backend: the forwarder must hold back
                continue
            for key, _ in self.sel.select(0.05):
                kind, i = key.data
                if kind == "listen":
                    c, _ = key.fileobj.accept()
                    c.setblocking(False)
                    bufs[c] = bytearray()
                    self.sel.register(c, selectors.EVENT_READ, ("conn", i))
                    continue
                try:
                    data = key.fileobj.recv(1 << 20)
                except BlockingIOError:
                    continue
                if not data:
                    self.sel.unregister(key.fileobj)
                    key.fileobj.close()
                    continue
                buf = bufs[key.fileobj]
                buf += data
                while len(buf) >= 4:
                    (n,) = struct.unpack_from(">I", buf)
                    if len(buf) < 4 + n:
                        break
                    self.received[i].append(bytes(buf[4:4 + n]))
                    del buf[:4 + n]
                    self.count += 1

    def wait_for(self, total, timeout=90):
        deadline = time.monotonic() + timeout
        while self.count < total and time.monotonic() < deadline:
            time.sleep(0.05)
        return self.count

    def close(self):
        self.stop.set()
        self.thread.join(10)
        for key in list(self.sel.get_map().values()):
            key.fileobj.close()
        self.sel.close()

    def backends_arg(self):
        host = f"[{self.addr}]" if ":" in self.addr else self.addr
        return ",".join(f"{host}:{p}" for p in self.ports)


def client_process(port, client, count, seed, chunked):
    rnd = random.Random(seed)
    s = socket.create_connection(("127.0.0.1", port), timeout=60)
    wire = bytearray()
    for seq in range(count):
        key = rnd.randrange(1000) - 200          # negative keys too
        wire += framed(msg_bytes(key, client, seq, rnd.randbytes(rnd.choice([0, 10, 300, 5000]))))
    if chunked:
        step = 0
        while step < len(wire):
            n = rnd.randint(1, 3000)
            s.sendall(wire[step:step + n])
            step += n
    else:
        s.sendall(wire)
    s.shutdown(socket.SHUT_WR)
    s.recv(1)       # wait for the forwarder to close after serving everything
    s.close()


def forward_from_clients(srv, sinks, per_client, seeds, chunked):
    """NCLIENTS client processes send per_client messages each (client_process); waits
    until the sinks have them all and nothing more arrives. Returns the total."""
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=client_process,
                         args=(srv.port, c, per_client, seeds[c], chunked))
             for c in range(NCLIENTS)]
    for p in procs:
        p.start()
    total = NCLIENTS * per_client
    assert sinks.wait_for(total) == total
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    time.sleep(0.2)     # nothing more may arrive
    assert sinks.count == total
    return total


def expected_messages(count, seed, client):
    rnd = random.Random(seed)
    out = []
    for seq in range(count):
        key = rnd.randrange(1000) - 200
        out.append(msg_bytes(key, client, seq, rnd.randbytes(rnd.choice([0, 10, 300, 5000]))))
    return out


def check_delivery(sinks, per_client, seeds):
    seen = {}
    for backend, msgs in enumerate(sinks.received):
        last = {}
        for raw in msgs:
            key, client, seq, seqid = parse_msg(raw)
            assert seqid == seq
            assert abs(key) % NBACKENDS == backend, (key, backend)
            assert (client, seq) not in seen, "delivered twice"
            seen[(client, seq)] = raw
            # In order per client and key (hence per client and backend).
            assert last.get(client, -1) < seq
            last[client] = seq
    for client, seed in enumerate(seeds):
        for seq, want in enumerate(expected_messages(per_client, seed, client)):
            assert seen.get((client, seq)) == want, f"client {client} message {seq} lost or altered"


@pytest.mark.parametrize("sndbuf,stall,chunked", [
    (4 << 20, 0.0, False),          # plenty of room
    (16 * 1024, 1.0, True),         # tiny backend buffers and stalled sinks: backpressure
])
def test_forwarder_8_clients_20_backends_by_key(sndbuf, stall, chunked):
    per_client = 1500
    sinks = Sinks(NBACKENDS, stall=stall)
    try:
        with Server("fwd_raw", "--key", "--backends", sinks.backends_arg(),
                    "--sndbuf", str(sndbuf)) as srv:
            seeds = [1000 + c for c in range(NCLIENTS)]
            total = forward_from_clients(srv, sinks, per_client, seeds, chunked)
            st = srv.assert_clean()
        check_delivery(sinks, per_client, seeds)
    finally:
        sinks.close()
    assert f"forwarded {total} dropped 0" in srv.stderr
    assert st["messages"] == total and st["bad"] == 0
    if stall:
        assert st["backpressure"] > 0


def test_forwarder_round_robin_per_client():
    sinks = Sinks(3)
    try:
        with Server("fwd_raw", "--backends", sinks.backends_arg()) as srv:
            with srv.connect() as s:
                s.sendall(b"".join(framed(msg_bytes(0, 0, i, b"rr")) for i in range(30)))
                assert sinks.wait_for(30) == 30
            srv.assert_clean()
        for backend, msgs in enumerate(sinks.received):
            assert [parse_msg(m)[2] for m in msgs] == list(range(backend, 30, 3))
    finally:
        sinks.close()


def test_forwarder_bad_key_field_gets_protocol_error():
    sinks = Sinks(2)
    try:
        with Server("fwd_raw", "--key", "--backends", sinks.backends_arg()) as srv:
            with srv.connect() as s:
                # First field a string, not the i32 key: PROTOCOL_ERROR (type 7) for a CALL.
                bad = message("msg", 1, 5, field_string(1, b"nokey") + STOP)
                s.sendall(framed(bad))
                reply = recv_frame(s)
                name, mtype, seqid, off = parse_header(reply)
                assert (name, mtype, seqid) == ("msg", T_EXCEPTION, 5)
                assert struct.pack(">bhi", 8, 2, 7) in reply[off:]
                # The next good message is still forwarded.
                s.sendall(framed(msg_bytes(1, 0, 0, b"good")))
                assert sinks.wait_for(1) == 1
            st = srv.assert_clean()
        assert st["bad"] == 1 and st["appex"] == 1
        assert parse_msg(sinks.received[1][0])[2] == 0
    finally:
        sinks.close()


def test_forwarder_backend_gone_drops_and_survives():
    sinks = Sinks(1)
    try:
        with Server("fwd_raw", "--backends", sinks.backends_arg()) as srv:
            with srv.connect() as s:
                s.sendall(framed(msg_bytes(0, 0, 0, b"a")))
                assert sinks.wait_for(1) == 1
                sinks.close()           # the backend disappears
                time.sleep(0.3)         # and the forwarder sees it go
                for i in range(1, 5):
                    s.sendall(framed(msg_bytes(0, 0, i, b"b")))
                    time.sleep(0.05)
            with srv.connect() as s:     # the forwarder still accepts clients
                s.sendall(framed(msg_bytes(0, 0, 9, b"c")))
                time.sleep(0.1)
            srv.assert_clean()
        assert "forwarded 1 dropped" in srv.stderr
    finally:
        if not sinks.stop.is_set():
            sinks.close()


def test_forwarder_unreachable_backend_drops():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()       # nothing listens there now
    with Server("fwd_raw", "--backends", f"127.0.0.1:{port}") as srv:
        with srv.connect() as c:
            time.sleep(0.2)     # the connect fails meanwhile
            c.sendall(framed(msg_bytes(0, 0, 0, b"x")))
            time.sleep(0.2)
        srv.assert_clean()
    assert "forwarded 0 dropped 1" in srv.stderr


def test_forwarder_ipv6_backends():
    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        pytest.skip("::1 not available")
    sinks = Sinks(4, addr="::1")
    try:
        with Server("fwd_raw", "--key", "--backends", sinks.backends_arg(), addr="::1") as srv:
            with srv.connect() as s:
                s.sendall(b"".join(framed(msg_bytes(k, 0, k, b"v6")) for k in range(8)))
                assert sinks.wait_for(8) == 8
            srv.assert_clean()
        for backend, msgs in enumerate(sinks.received):
            assert [parse_msg(m)[0] for m in msgs] == [backend, backend + 4]
    finally:
        sinks.close()
