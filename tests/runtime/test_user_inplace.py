"""The borrowed receive (messages served from the socket's pages, issue 10) in user space.

The kernel lends the receive queue's pages (kg_sock_recv_borrow()); user space has none to
lend and copies, but with KGEN_TEST_RX_BORROW=<n> the epoll backend runs the same path
with malloc'ed segments of 1..n bytes, freed when the server lets them go: under ASan a
view kept past its segment is a use-after-free.  So bsock's segments, pulls of a message
that goes on in the next segment, and the copy of what is left when serving stops (a
forwarder's backpressure) are checked here with hostile stream shapes; the replies must
be byte for byte the copy path's (the echo: the input itself).  The VM tests do the
same against the kernel's pages (tests/vm/test_inplace.py).
"""

import os
import random
import threading
import time

import pytest

from _testsvc import (STOP, T_CALL, Server, build, closed_by_peer, field_i32, field_string,
                      framed, message, recv_exact)
from _forwarding import NBACKENDS, NCLIENTS, Sinks, check_delivery, forward_from_clients

pytestmark = pytest.mark.xdist_group("runtime-user-server")


@pytest.fixture(scope="module", autouse=True)
def testsvc_binary():
    return build()


def call_bytes(seqid, payload):
    return message("echo", T_CALL, seqid, field_i32(1, seqid) + field_string(2, payload) + STOP)


def send_in_pieces(sock, wire, sizes, pause=0.0):
    i = k = 0
    while i < len(wire):
        n = sizes[k % len(sizes)]
        sock.sendall(wire[i:i + n])
        i += n
        k += 1
        if pause:
            time.sleep(pause)


def echo_through(srv, wire, sizes, pause=0.0):
    with srv.connect(timeout=60) as s:
        got = bytearray()

        def reader():
            while len(got) < len(wire):
                b = s.recv(1 << 20)
                if not b:
                    break
                got.extend(b)

        t = threading.Thread(target=reader, daemon=True)
        t.start()
        send_in_pieces(s, wire, sizes, pause)
        t.join(60)
        assert not t.is_alive(), "echo reader hung"
    return bytes(got)


@pytest.mark.parametrize("seg", [1, 3, 7, 61, 300, 100000])
@pytest.mark.parametrize("transport", ["framed", "buffered"])
def test_borrowed_echo_every_straddle(monkeypatch, seg, transport):
    """Frames of many lengths, sent in pieces of odd sizes (segment ends fall inside frame
    lengths, headers, strings): every reply the request's own bytes, in order."""
    monkeypatch.setenv("KGEN_TEST_RX_BORROW", str(seg))
    rnd = random.Random(seg * 31 + len(transport))
    msgs = [call_bytes(i, os.urandom(rnd.choice([0, 1, 2, 3, 5, 17, 100, 1000, 5000])))
            for i in range(300)]
    wire = b"".join(framed(m) if transport == "framed" else m for m in msgs)
    with Server("echo_thrift", "--transport", transport) as srv:
        assert echo_through(srv, wire, [len(wire)]) == wire
        assert echo_through(srv, wire, [1, 2, 3, 4, 5, 7, 11, 4096, 13, 65536]) == wire
        st = srv.assert_clean()
    assert st["messages"] == 600 and st["bad"] == 0, st
    counters = srv.counters()
    assert counters["rx_inplace_bytes"] <= counters["bytes_in"] == 2 * len(wire), counters
    if seg == 100000:
        # Big segments hold whole messages: most bytes are served where they lie when
        # framed (a message cut by a borrow's end costs a copy of its rest only); unframed,
        # its end is unknown, so the buffered copy path goes on until the stream pauses.
        assert counters["rx_inplace_bytes"] > (len(wire) // 2 if transport == "framed" else 0), \
            counters


def test_borrowed_dribble_truncation_and_close(monkeypatch):
    """A frame sent a byte at a time; a huge frame announced then cut off by a close; a
    stream closed in the middle of a message: the whole messages are answered, the
    server is clean and a good client on another connection is served throughout."""
    monkeypatch.setenv("KGEN_TEST_RX_BORROW", "5")
    with Server("echo_thrift", "--transport", "framed") as srv:
        one = framed(call_bytes(1, b"dribble" * 20))
        assert echo_through(srv, one, [1], pause=0.001) == one
        with srv.connect() as s:
            try:
                s.sendall((8 << 20).to_bytes(4, "big") + os.urandom(100_000))
                s.shutdown(1)
            except OSError:
                pass    # over max_frame: the server may have closed already
            assert closed_by_peer(s, 30)    # never answered
        whole = [framed(call_bytes(i, os.urandom(i * 11))) for i in range(40)]
        with srv.connect() as s:
            s.sendall(b"".join(whole) + whole[0][:9])
            s.shutdown(1)
            assert recv_exact(s, sum(map(len, whole))) == b"".join(whole)
        again = framed(call_bytes(3, b"after"))
        assert echo_through(srv, again, [len(again)]) == again
        st = srv.assert_clean()
    assert st["messages"] == 1 + 40 + 1, st


@pytest.mark.parametrize("seg", [2, 200, 100000])
def test_borrowed_forwarder_backpressure(monkeypatch, seg):
    """8 clients through tiny backend buffers to stalled sinks: handlers refuse
    (-EAGAIN) mid-segment, the rest is copied and served later; nothing lost, altered or
    reordered (check_delivery)."""
    monkeypatch.setenv("KGEN_TEST_RX_BORROW", str(seg))
    per_client = 600
    sinks = Sinks(NBACKENDS, stall=1.0)
    try:
        with Server("fwd_raw", "--key", "--backends", sinks.backends_arg(),
                    "--sndbuf", str(16 * 1024)) as srv:
            seeds = [2000 + c for c in range(NCLIENTS)]
            total = forward_from_clients(srv, sinks, per_client, seeds, True)
            st = srv.assert_clean()
        check_delivery(sinks, per_client, seeds)
    finally:
        sinks.close()
    assert st["messages"] == total and st["bad"] == 0 and st["backpressure"] > 0, st
    if seg > 2:     # 2-byte segments never hold a whole message
        assert srv.counters()["rx_inplace_bytes"] > 0
