"""The server's memory budget in user space (ASan + UBSan): hostile clients
that try to make the server hold memory, with a good client calling
throughout; idle connections and what they cost; replies that wait for a
slow reader. Every server must give back every byte it charged
(Server.assert_clean() checks mem_in_use == 0 and mem_peak <= mem_budget).
"""

import socket
import struct
import threading
import time

import pytest

from _testsvc import (STOP, T_CALL, T_REPLY, Server, build, field_i32, field_string,
                      framed, message, parse_header, recv_exact, recv_frame)

pytestmark = pytest.mark.xdist_group("runtime-user-server")

KiB, MiB = 1 << 10, 1 << 20


@pytest.fixture(scope="module", autouse=True)
def testsvc_binary():
    return build()


def echo_call(seqid, payload):
    return framed(message("echo", T_CALL, seqid, field_i32(1, seqid) + field_string(2, payload) + STOP))


class GoodClient(threading.Thread):
    """Calls echo every 20 ms until stopped; records the slowest round trip."""

    def __init__(self, srv):
        super().__init__(daemon=True)
        self.srv = srv
        self.stop = threading.Event()
        self.calls = 0
        self.worst = 0.0
        self.error = None

    def run(self):
        try:
            with self.srv.connect(timeout=30) as s:
                while not self.stop.is_set():
                    m = echo_call(self.calls, b"good %d" % self.calls)
                    t = time.monotonic()
                    s.sendall(m)
                    assert recv_exact(s, len(m)) == m
                    self.worst = max(self.worst, time.monotonic() - t)
                    self.calls += 1
                    time.sleep(0.02)
        except BaseException as e:  # noqa: BLE001 - reported by the test
            self.error = e


def test_partial_big_frames_cannot_exhaust_memory():
    """120 connections each declare a 1 MiB frame and send all of it but the
    last bytes, against an 8 MiB budget, and reconnect when closed, for 3 s:
    the server never holds more than its budget, closes the biggest holders
    to make room, and keeps serving a good client."""
    budget = 8 * MiB
    with Server("echo_thrift", "--max-frame", str(MiB), "--mem-budget", str(budget)) as srv:
        good = GoodClient(srv)
        good.start()
        attackers = []
        deadline = time.monotonic() + 3

        def attack(i):
            body = struct.pack(">I", MiB) + bytes([i % 256]) * (MiB - 10)
            while time.monotonic() < deadline:
                try:
                    s = srv.connect(timeout=1)
                    attackers.append(s)
                    s.sendall(body)
                    time.sleep(max(0, deadline - time.monotonic()))
                except OSError:     # closed for memory, refused, or stalled: again
                    pass

        threads = [threading.Thread(target=attack, args=(i,), daemon=True) for i in range(120)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        time.sleep(0.5)
        good.stop.set()
        good.join(30)
        assert good.error is None, good.error
        st = srv.assert_clean()
        for s in attackers:
            s.close()
    print("exhaustion:", good.calls, "good calls, worst %.3f s" % good.worst, st)
    assert good.calls >= 20, good.calls
    assert good.worst < 10, good.worst
    assert st["mem_budget"] == budget
    assert st["mem_peak"] <= budget, st
    assert st["closed_memory"] > 0 and st["mem_pressure"] > 0, st
    assert st["messages"] == good.calls


def test_idle_connections_cost_at_most_16_kib():
    """1000 connections that send nothing: the budget's peak, divided by the
    number of connections, is what an idle connection costs."""
    n = 1000
    with Server("echo_thrift", "--max-conns", str(n + 10)) as srv:
        idle = [srv.connect() for _ in range(n)]
        # Accepted in order: once this one is served, all the idle ones are in.
        with srv.connect() as s:
            m = echo_call(1, b"probe")
            s.sendall(m)
            assert recv_exact(s, len(m)) == m
        time.sleep(0.2)
        st = srv.assert_clean()
        for s in idle:
            s.close()
    assert st["accepted"] == n + 1
    per_conn = st["mem_peak"] / n
    print(f"idle connection: {per_conn:.0f} bytes charged (peak {st['mem_peak']} for {n})")
    assert per_conn <= 16 * KiB, st


def calc_echo(seqid, payload):
    return framed(message("echo", T_CALL, seqid, field_string(1, payload) + STOP))


def read_echo_reply(sock):
    reply = recv_frame(sock)
    name, mtype, seqid, off = parse_header(reply)
    assert (name, mtype) == ("echo", T_REPLY), (name, mtype)
    ftype, fid, n = struct.unpack_from(">bhI", reply, off)
    assert (ftype, fid) == (11, 0)
    return seqid, reply[off + 7:off + 7 + n]


def slow_recv_frame(sock, piece=32 * KiB, pause=0.005):
    """recv_frame(), reading at most @piece bytes per @pause seconds."""
    (n,) = struct.unpack(">I", recv_exact(sock, 4))
    buf = bytearray()
    while len(buf) < n:
        buf += recv_exact(sock, min(piece, n - len(buf)))
        time.sleep(pause)
    return bytes(buf)


@pytest.mark.parametrize("service", ["calc", "echo_thrift"])
def test_big_pipelined_replies_wait_for_a_slow_reader(service):
    """Two pipelined 3.5 MB testString-like calls from a client that reads
    slowly: both replies arrive whole (the send buffer is 1 MiB; the reply
    waits in it for the reader instead of closing the connection)."""
    size = 3_500_000
    payloads = [bytes([65 + i]) * size for i in range(2)]
    with Server(service, "--max-frame", str(4 * MiB)) as srv:
        with srv.connect(timeout=60) as s:
            if service == "calc":
                wire = b"".join(calc_echo(i, p) for i, p in enumerate(payloads))
            else:
                wire = b"".join(echo_call(i, p) for i, p in enumerate(payloads))
            sender = threading.Thread(target=s.sendall, args=(wire,), daemon=True)
            sender.start()
            time.sleep(0.5)   # the first reply is queued before anything is read
            for i, p in enumerate(payloads):
                frame = slow_recv_frame(s)
                if service == "calc":
                    seqid, got = read_echo_reply(socket_frame(frame))
                    assert seqid == i and got == p
                else:
                    assert framed(frame) == echo_call(i, p)
            sender.join(30)
        st = srv.assert_clean()
    assert st["messages"] == 2 and st["closed_reply_too_large"] == 0
    assert st["backpressure"] > 0
    assert st["mem_peak"] <= st["mem_budget"]


class socket_frame:
    """A frame already read, offered to read_echo_reply() like a socket."""

    def __init__(self, frame):
        self.data = struct.pack(">I", len(frame)) + frame

    def recv(self, n):
        out, self.data = self.data[:n], self.data[n:]
        return out


def test_reply_over_max_reply_closes_with_an_exception():
    with Server("calc", "--max-frame", str(MiB), "--sndbuf", str(256 * KiB),
                "--max-reply", str(512 * KiB)) as srv:
        with srv.connect(timeout=20) as s:
            s.sendall(calc_echo(1, b"x" * 500_000))
            assert read_echo_reply(s) == (1, b"x" * 500_000)    # over sndbuf, within max_reply
            # Fits max_frame as a request; its reply is over max_reply.
            s.sendall(calc_echo(2, b"y" * 600_000))
            reply = recv_frame(s)
            name, mtype, seqid, off = parse_header(reply)
            assert (name, mtype, seqid) == ("echo", 3, 2)     # T_EXCEPTION
            assert b"reply too large" in reply
            s.settimeout(10)
            assert s.recv(1) == b""
        st = srv.assert_clean()
    assert st["closed_reply_too_large"] == 1


def test_many_clients_with_big_messages_within_a_small_budget():
    """20 clients each pipelining three 512 KiB messages through a 3 MiB
    budget: some wait for memory or are closed for it, the ones that finish
    got their bytes right, and the budget is never exceeded."""
    budget = 3 * MiB
    results = []
    with Server("echo_thrift", "--max-frame", str(MiB), "--mem-budget", str(budget)) as srv:
        def client(i):
            try:
                with srv.connect(timeout=20) as s:
                    # Pipelined: all three are sent before any echo is read.
                    wire = b"".join(echo_call(k, bytes([i]) * (512 * KiB)) for k in range(3))
                    sender = threading.Thread(target=s.sendall, args=(wire,), daemon=True)
                    sender.start()
                    assert recv_exact(s, len(wire)) == wire
                    sender.join(20)
                results.append("ok")
            except (EOFError, ConnectionResetError, BrokenPipeError, socket.timeout):
                results.append("closed")

        threads = [threading.Thread(target=client, args=(i,)) for i in range(20)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(90)
            assert not t.is_alive()
        st = srv.assert_clean()
    print("small budget:", results.count("ok"), "ok", st)
    assert len(results) == 20 and "ok" in results, results
    assert st["mem_peak"] <= budget
    assert st["mem_pressure"] > 0, st
    assert st["closed_memory"] == results.count("closed"), (st, results)


def test_quiet_connections_give_their_buffers_back():
    """Buffers and the arena stay while a connection is busy (no alloc/free per
    message) and go once the timer saw it quiet for a tick: 40 connections call
    and stay open, then, once they were quiet for a few ticks, 40 more do the
    same. Kept for good, the first 40 would still hold their buffers and the
    peak would be both groups' worth; given back, it is about one group's."""
    n = 40
    with Server("echo_thrift", "--max-conns", str(2 * n + 10)) as srv:
        def group(seq):
            socks = []
            for i in range(n):
                s = srv.connect()
                m = echo_call(seq + i, b"x" * 64)
                s.sendall(m)
                assert recv_exact(s, len(m)) == m
                socks.append(s)
            return socks
        first = group(0)
        time.sleep(3.5)     # the timeout pass ticks every second (30 s message timeout / 4, at most 1 s)
        second = group(n)
        time.sleep(3.5)
        # Both groups quiet and trimmed: the first still works (buffers again).
        for i, s in enumerate(first):
            m = echo_call(1000 + i, b"again")
            s.sendall(m)
            assert recv_exact(s, len(m)) == m
        st = srv.assert_clean()
        for s in first + second:
            s.close()
    per_busy = st["mem_peak"] / n
    print(f"peak {st['mem_peak']} for {n} busy + {n} quiet connections: {per_busy:.0f} bytes per busy one")
    # One busy connection holds a 16 KiB receive buffer, a 16 KiB send buffer and an arena chunk.
    assert 32 * KiB <= per_busy <= 1.5 * (32 * KiB + 16 * KiB), st
