"""fwd_raw: whole Thrift messages forwarded to backends without re-encoding.

8 client processes send oneway `msg(1: i32 key, 2: string payload)` calls
through the user-space forwarder to 20 backend sinks (the paper's section
3.3 set-up, on loopback). Every message must arrive exactly once, byte for
byte, at the right backend, in order per client and key.
"""

import os
import socket
import struct
import time

import pytest

from _forwarding import (NBACKENDS, NCLIENTS, Sinks, check_delivery, forward_from_clients,
                         msg_bytes, parse_msg)
from _testsvc import (STOP, T_EXCEPTION, Server, build, closed_by_peer, field_string, framed,
                      message, parse_header, recv_frame)

pytestmark = pytest.mark.xdist_group("runtime-user-server")


@pytest.fixture(scope="module", autouse=True)
def testsvc_binary():
    return build()


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
