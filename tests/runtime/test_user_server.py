"""The runtime's networking part in user space: epoll backend, buffered and
Thrift sockets, the server, driven through the test services over loopback.

Every server runs under ASan + UBSan and must exit 0 on SIGTERM with no
sanitizer or leak report, whatever the clients did.
"""

import os
import random
import socket
import struct
import threading
import time

import pytest

from _testsvc import (STOP, T_CALL, T_EXCEPTION, T_ONEWAY, T_REPLY, GoodClient, Server, build,
                      churn, latency_figures,
                      closed_by_peer, field_i32, field_string, framed, message,
                      parse_header, recv_exact, recv_frame)

pytestmark = pytest.mark.xdist_group("runtime-user-server")

MiB = 1 << 20


@pytest.fixture(scope="module", autouse=True)
def testsvc_binary():
    return build()


def run_threads(fn, n):
    errors = []

    def wrap(i):
        try:
            fn(i)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append((i, e))

    threads = [threading.Thread(target=wrap, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
        assert not t.is_alive(), "client thread hung"
    assert not errors, errors[:3]


def echo_raw_roundtrip(srv, data, chunk=None):
    """Send size header + data (optionally in chunks) while reading the echo."""
    with srv.connect() as s:
        got = bytearray()

        def reader():
            while len(got) < len(data):
                b = s.recv(1 << 20)
                if not b:
                    break
                got.extend(b)

        t = threading.Thread(target=reader)
        t.start()
        s.sendall(struct.pack(">I", chunk or 4096))
        if chunk:
            for i in range(0, len(data), chunk):
                s.sendall(data[i:i + chunk])
        else:
            s.sendall(data)
        t.join(60)
        assert not t.is_alive()
        return bytes(got)


# ---- echo_raw: the paper's echo, raw-bytes mode ----

def test_echo_raw_basic():
    with Server("echo_raw") as srv:
        data = os.urandom(100_000)
        assert echo_raw_roundtrip(srv, data) == data
        st = srv.assert_clean()
    assert st["accepted"] == 1 and st["closed"] == 1
    assert st["bytes_in"] == 4 + len(data) and st["bytes_out"] == len(data)


def test_echo_raw_one_byte_writes():
    with Server("echo_raw") as srv:
        data = bytes(range(256)) * 4
        assert echo_raw_roundtrip(srv, data, chunk=1) == data
        srv.assert_clean()


def test_echo_raw_1mib_payloads_and_backpressure():
    # A client that writes 8 MiB before reading anything: the server must stop
    # reading (send buffer full), not grow without bound, and resume later.
    with Server("echo_raw", "--sndbuf", str(256 * 1024)) as srv:
        data = os.urandom(8 * MiB)
        with srv.connect(timeout=30) as s:
            s.sendall(struct.pack(">I", MiB))
            sender = threading.Thread(target=s.sendall, args=(data,))
            sender.start()
            time.sleep(0.5)          # let the buffers fill up while nobody reads
            got = recv_exact(s, len(data))
            sender.join(30)
        assert got == data
        st = srv.assert_clean()
    assert st["backpressure"] > 0


def test_echo_raw_100_concurrent_clients():
    with Server("echo_raw") as srv:
        def client(i):
            rnd = random.Random(i)
            data = rnd.randbytes(rnd.randint(1, 64 * 1024))
            assert echo_raw_roundtrip(srv, data, chunk=rnd.choice([None, 7, 1000])) == data

        run_threads(client, 100)
        st = srv.assert_clean()
    assert st["accepted"] == 100


def test_echo_raw_half_close_gets_everything_back():
    # The client shuts down its side right after sending: all bytes still come
    # back, then the server closes.
    with Server("echo_raw") as srv:
        data = os.urandom(300_000)
        with srv.connect() as s:
            s.sendall(struct.pack(">I", 512) + data)
            s.shutdown(socket.SHUT_WR)
            assert recv_exact(s, len(data)) == data
            assert closed_by_peer(s)
        srv.assert_clean()


def test_echo_raw_ipv6():
    if not socket.has_ipv6:
        pytest.skip("no IPv6")
    try:
        socket.socket(socket.AF_INET6).bind(("::1", 0))
    except OSError:
        pytest.skip("::1 not available")
    with Server("echo_raw", addr="::1") as srv:
        assert echo_raw_roundtrip(srv, b"over v6" * 100) == b"over v6" * 100
        srv.assert_clean()


@pytest.mark.parametrize("addr, printed", [("::1", "[::1]"), ("127.0.0.1", "127.0.0.1")])
def test_listening_address_printed_with_port(addr, printed):
    """IPv6 literals print in brackets ("[::1]:9090"), so the port stays apart."""
    if ":" in addr:
        try:
            socket.socket(socket.AF_INET6).bind((addr, 0))
        except OSError:
            pytest.skip(f"{addr} not available")
    with Server("echo_raw", addr=addr) as srv:
        assert echo_raw_roundtrip(srv, b"where") == b"where"
        srv.assert_clean()
    lines = [line for line in srv.stderr.splitlines() if "listening on" in line]
    assert len(lines) == 1, srv.stderr
    assert f"listening on {printed}:{srv.port} (" in lines[0], lines[0]


def test_max_conns_refuses_extra_connections():
    with Server("echo_raw", "--max-conns", "2") as srv:
        a, b = srv.connect(), srv.connect()
        for s in (a, b):
            s.sendall(struct.pack(">I", 16) + b"x")
            assert recv_exact(s, 1) == b"x"
        c = srv.connect()
        assert closed_by_peer(c)
        a.close()
        # A slot is free again once the close is seen.
        deadline = time.monotonic() + 10
        while True:
            d = srv.connect()
            d.sendall(struct.pack(">I", 16) + b"y")
            d.settimeout(2)
            try:
                if d.recv(1) == b"y":
                    break
            except (socket.timeout, ConnectionResetError):
                pass
            d.close()
            assert time.monotonic() < deadline
        for s in (b, c, d):
            s.close()
        st = srv.assert_clean()
    assert st["refused"] >= 1


# ---- echo_thrift: whole messages, framed and buffered ----

def call_bytes(seqid, payload, name="echo"):
    return message(name, T_CALL, seqid, field_i32(1, seqid) + field_string(2, payload) + STOP)


@pytest.mark.parametrize("transport", ["framed", "buffered"])
def test_echo_thrift_pipelined_messages(transport):
    with Server("echo_thrift", "--transport", transport) as srv:
        msgs = [call_bytes(i, os.urandom(i * 37)) for i in range(200)]
        wire = b"".join(framed(m) if transport == "framed" else m for m in msgs)
        with srv.connect() as s:
            s.sendall(wire)
            assert recv_exact(s, len(wire)) == wire
        st = srv.assert_clean()
    assert st["messages"] == 200 and st["bad"] == 0


@pytest.mark.parametrize("transport", ["framed", "buffered"])
def test_echo_thrift_one_byte_writes(transport):
    with Server("echo_thrift", "--transport", transport) as srv:
        msgs = [call_bytes(i, b"p" * i) for i in range(5)]
        wire = b"".join(framed(m) if transport == "framed" else m for m in msgs)
        with srv.connect() as s:
            for i in range(len(wire)):
                s.send(wire[i:i + 1])
            assert recv_exact(s, len(wire)) == wire
        srv.assert_clean()


@pytest.mark.parametrize("transport", ["framed", "buffered"])
def test_echo_thrift_1mib_messages(transport):
    with Server("echo_thrift", "--transport", transport, "--max-frame", str(2 * MiB)) as srv:
        msgs = [call_bytes(i, os.urandom(MiB)) for i in range(4)]
        wire = b"".join(framed(m) if transport == "framed" else m for m in msgs)
        with srv.connect(timeout=30) as s:
            t = threading.Thread(target=s.sendall, args=(wire,))
            t.start()
            assert recv_exact(s, len(wire)) == wire
            t.join(30)
        srv.assert_clean()


def test_frame_over_max_frame_is_closed():
    with Server("echo_thrift", "--max-frame", str(64 * 1024)) as srv:
        with srv.connect() as s:
            s.sendall(struct.pack(">I", 64 * 1024 + 1) + b"\x80")
            assert closed_by_peer(s)
        # Still serving.
        with srv.connect() as s:
            m = framed(call_bytes(1, b"ok"))
            s.sendall(m)
            assert recv_exact(s, len(m)) == m
        st = srv.assert_clean()
    assert st["bad"] >= 1


@pytest.mark.parametrize("garbage", [
    struct.pack(">i", -5),                               # negative frame length
    struct.pack(">I", 12) + b"\x00" * 12,                # frame without a valid header
    struct.pack(">I", 10) + b"\x80\x01\x00\x01\xff\xff\xff\xff\x00\x00",  # negative name length
])
def test_malformed_framed_input_closes_connection(garbage):
    with Server("echo_thrift") as srv:
        with srv.connect() as s:
            s.sendall(garbage)
            assert closed_by_peer(s)
        with srv.connect() as s:
            m = framed(call_bytes(7, b"still alive"))
            s.sendall(m)
            assert recv_exact(s, len(m)) == m
        srv.assert_clean()


@pytest.mark.parametrize("garbage", [
    b"GET / HTTP/1.1\r\n\r\n",
    b"\x80\x01\x00\x01" + struct.pack(">i", -1),
    message("m", T_CALL, 1, b"\x63\x00\x01"),            # unknown field type 0x63
])
def test_malformed_buffered_input_closes_connection(garbage):
    with Server("echo_thrift", "--transport", "buffered") as srv:
        with srv.connect() as s:
            s.sendall(garbage)
            assert closed_by_peer(s)
        srv.assert_clean()


def test_wrong_message_type_gets_application_exception():
    with Server("echo_thrift") as srv:
        with srv.connect() as s:
            s.sendall(framed(message("ping", T_REPLY, 42, STOP)))
            reply = recv_frame(s)
            name, mtype, seqid, off = parse_header(reply)
            assert (name, mtype, seqid) == ("ping", T_EXCEPTION, 42)
            # TApplicationException {1: message, 2: type}; type 2 = INVALID_MESSAGE_TYPE
            assert struct.pack(">bhi", 8, 2, 2) in reply[off:]
            # The connection goes on.
            m = framed(call_bytes(1, b"after"))
            s.sendall(m)
            assert recv_exact(s, len(m)) == m
        st = srv.assert_clean()
    assert st["appex"] == 1


def test_clients_vanishing_mid_message():
    with Server("echo_thrift", "--transport", "framed") as srv:
        for i in range(50):
            s = srv.connect()
            m = framed(call_bytes(i, os.urandom(5000)))
            s.sendall(m[: random.Random(i).randint(1, len(m) - 1)])
            if i % 2:
                s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST
            s.close()
        with srv.connect() as s:
            m = framed(call_bytes(99, b"survivor"))
            s.sendall(m)
            assert recv_exact(s, len(m)) == m
        st = srv.assert_clean()
    assert st["accepted"] == 51 and st["closed"] == 51


def test_100_concurrent_thrift_clients():
    with Server("echo_thrift") as srv:
        def client(i):
            with srv.connect(timeout=30) as s:
                for k in range(20):
                    m = framed(call_bytes(i * 1000 + k, random.Random(i * k).randbytes(k * 50)))
                    s.sendall(m)
                    assert recv_exact(s, len(m)) == m

        run_threads(client, 100)
        st = srv.assert_clean()
    assert st["messages"] == 2000 and st["accepted"] == 100


def test_sigterm_with_connections_open():
    with Server("echo_thrift") as srv:
        idle = [srv.connect() for _ in range(10)]
        partial = srv.connect()
        partial.sendall(framed(call_bytes(1, b"x" * 1000))[:500])
        flooded = srv.connect()
        flooded.sendall(b"".join(framed(call_bytes(i, b"y" * 4096)) for i in range(500)))
        time.sleep(0.3)
        st = srv.assert_clean()
        for s in idle + [partial, flooded]:
            s.close()
    assert st["accepted"] == 12 and st["closed"] == 12


# ---- thriftpy2 as the client ----

ECHO_IDL = """
exception Boom {
    1: string msg
    2: i32 code
}
service Echo {
    string echo(1: Boom b) throws (1: Boom err)
    oneway void fire(1: i32 key, 2: string payload)
}
"""


@pytest.fixture(scope="module")
def echo_thrift_module(tmp_path_factory):
    thriftpy2 = pytest.importorskip("thriftpy2")
    path = tmp_path_factory.mktemp("idl") / "echo.thrift"
    path.write_text(ECHO_IDL)
    return thriftpy2.load(str(path), module_name="runtime_echo_test_thrift")


@pytest.mark.parametrize("transport", ["framed", "buffered"])
def test_thriftpy2_call_echoed_back_is_parsed(echo_thrift_module, transport):
    """The echoed CALL carries the argument struct; its field 1 (a Boom)
    decodes as the result's exception field 1, so thriftpy2 raises exactly
    the Boom it sent: the message came back whole and parseable."""
    from thriftpy2.protocol import TBinaryProtocolFactory
    from thriftpy2.rpc import make_client
    from thriftpy2.transport import TBufferedTransportFactory, TFramedTransportFactory

    factory = TFramedTransportFactory() if transport == "framed" else TBufferedTransportFactory()
    with Server("echo_thrift", "--transport", transport) as srv:
        client = make_client(echo_thrift_module.Echo, "127.0.0.1", srv.port,
                             proto_factory=TBinaryProtocolFactory(),
                             trans_factory=factory, timeout=10000)
        try:
            for i in range(20):
                sent = echo_thrift_module.Boom(msg="payload %d " % i * (i + 1), code=i)
                with pytest.raises(echo_thrift_module.Boom) as exc:
                    client.echo(sent)
                assert exc.value.msg == sent.msg and exc.value.code == i
        finally:
            client.close()
        st = srv.assert_clean()
    assert st["messages"] == 20


def test_echo_larger_than_send_buffer_waits_for_the_reader():
    # Larger than the send buffer but within max_reply: queued whole, sent
    # as the client reads (it did not read before sending it all).
    with Server("echo_thrift", "--sndbuf", str(64 * 1024)) as srv:
        with srv.connect() as s:
            big = framed(call_bytes(2, b"z" * 300_000))
            s.sendall(big)
            time.sleep(0.2)
            assert recv_exact(s, len(big)) == big
        st = srv.assert_clean()
    assert st["closed"] == 1 and st["messages"] == 1


def test_echo_larger_than_max_reply_closes():
    # A message that can never fit (over max_reply) cannot be echoed: the
    # connection is closed (not answered as if the arguments were malformed).
    with Server("echo_thrift", "--sndbuf", str(64 * 1024), "--max-reply", str(64 * 1024)) as srv:
        with srv.connect() as s:
            small = framed(call_bytes(1, b"fits"))
            s.sendall(small)
            assert recv_exact(s, len(small)) == small
            s.sendall(framed(call_bytes(2, b"z" * 100_000)))
            assert closed_by_peer(s)
        st = srv.assert_clean()
    assert st["appex"] == 0


@pytest.mark.parametrize("transport", ["framed", "buffered"])
def test_random_garbage_streams_never_hurt_the_server(transport):
    """300 seeded streams of mutated and random bytes, some cut short: each
    connection is served or closed, the server keeps serving and stays
    sanitizer-clean."""
    good = [call_bytes(i, b"g" * (i % 50)) for i in range(10)]
    with Server("echo_thrift", "--transport", transport, "--max-frame", "65536") as srv:
        for seed in range(300):
            rnd = random.Random(seed)
            wire = bytearray(b"".join(framed(m) if transport == "framed" else m
                                      for m in rnd.sample(good, 3)))
            if seed % 3 == 0:
                wire = bytearray(rnd.randbytes(rnd.randint(1, 200)))
            else:
                for _ in range(rnd.randint(1, 8)):
                    wire[rnd.randrange(len(wire))] = rnd.randrange(256)
            with srv.connect() as s:
                s.settimeout(5)
                s.sendall(wire[:rnd.randint(1, len(wire))] if seed % 5 == 0 else wire)
                s.shutdown(socket.SHUT_WR)
                try:
                    while s.recv(65536):
                        pass
                except (ConnectionResetError, socket.timeout):
                    pass
        with srv.connect() as s:
            m = framed(good[3]) if transport == "framed" else good[3]
            s.sendall(m)
            assert recv_exact(s, len(m)) == m
        srv.assert_clean()


def test_budget_keeps_a_flooding_client_from_starving_others():
    # One client keeps 20 MB of pipelined calls coming; another does 50
    # request/reply round trips meanwhile. The per-run budget requeues the
    # flooding connection, so the other one is served in between.
    with Server("echo_thrift", "--budget", "16") as srv:
        flood_msg = framed(call_bytes(0, b"f" * 4000))
        stop = threading.Event()

        def flood():
            with srv.connect(timeout=30) as s:
                reader = threading.Thread(target=lambda: [None for _ in iter(lambda: s.recv(1 << 20), b"")],
                                          daemon=True)
                reader.start()
                sent = 0
                while not stop.is_set() and sent < 20_000_000:
                    s.sendall(flood_msg * 16)
                    sent += len(flood_msg) * 16
                s.shutdown(socket.SHUT_WR)
                reader.join(30)

        t = threading.Thread(target=flood)
        t.start()
        time.sleep(0.3)
        start = time.monotonic()
        with srv.connect() as s:
            for i in range(50):
                m = framed(call_bytes(i, b"ping"))
                s.sendall(m)
                assert recv_exact(s, len(m)) == m
        elapsed = time.monotonic() - start
        stop.set()
        t.join(60)
        srv.assert_clean()
    assert elapsed < 10, elapsed


# ---- connection lifetime: timeouts, churn, max_conns (issue 9) ----

def echo_call(seqid, payload=b""):
    return framed(message("echo", T_CALL, seqid, field_i32(1, seqid) + field_string(2, payload) + STOP))


def test_idle_timeout_closes_an_idle_connection():
    with Server("echo_thrift", "--idle-timeout-ms", "500") as srv:
        idle = srv.connect()
        idle.settimeout(0.1)
        t0 = time.monotonic()
        waited = None
        # A connection that talks meanwhile stays open.
        with srv.connect() as busy:
            for i in range(40):
                busy.sendall(echo_call(i))
                assert recv_exact(busy, len(echo_call(i))) == echo_call(i)
                if waited is None:
                    try:
                        if idle.recv(1) == b"":
                            waited = time.monotonic() - t0
                    except socket.timeout:
                        pass
                else:
                    time.sleep(0.1)
        idle.close()
        srv.assert_clean()
    st = srv.counters()
    print(f"idle connection closed after {waited} s (idle_timeout_ms=500)")
    assert waited is not None and 0.45 <= waited < 3, waited
    assert st["closed_idle"] == 1 and st["closed_message_timeout"] == 0, st


def test_many_idle_connections_all_close_soon_after_the_timeout():
    """600 idle connections: the timeout closes them in batches, but batch after batch, not one
    batch per tick (a tick is 500 ms here: 32 a tick would take ~9 s)."""
    n = 600
    with Server("echo_thrift", "--idle-timeout-ms", "2000", "--max-conns", "2000") as srv:
        conns = [srv.connect() for _ in range(n)]
        t0 = time.monotonic()
        for s in conns:
            s.settimeout(10)
        closed_after = []
        for s in conns:
            assert s.recv(1) == b"", "an idle connection got bytes"
            closed_after.append(time.monotonic() - t0)
            s.close()
        srv.assert_clean()
    st = srv.counters()
    print(f"{n} idle connections closed between {min(closed_after):.2f} s and "
          f"{max(closed_after):.2f} s (idle_timeout_ms=2000)")
    assert st["closed_idle"] == n, st
    assert max(closed_after) < 2.0 + 3.0, max(closed_after)


def test_slowloris_is_closed_while_a_good_client_is_served():
    with Server("echo_thrift", "--message-timeout-ms", "1000") as srv:
        good = GoodClient(srv.connect).start()
        slow = srv.connect()
        msg = echo_call(1, b"s" * 200)
        t0 = time.monotonic()
        sent = 0
        closed = False
        # One byte per 100 ms: every byte is activity (not idle), the message never ends.
        while time.monotonic() - t0 < 15:
            try:
                slow.send(msg[sent:sent + 1])
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            sent += 1
            slow.settimeout(0.1)
            try:
                if slow.recv(100) == b"":
                    closed = True
                    break
            except socket.timeout:
                pass
            except ConnectionResetError:
                closed = True
                break
        held = time.monotonic() - t0
        slow.close()
        lat = good.stop()
        srv.assert_clean()
    st = srv.counters()
    fig = latency_figures(lat)
    print(f"slowloris closed after {held:.2f} s, {sent} bytes; good client {fig}")
    assert closed and 0.9 <= held < 5, (closed, held)
    assert sent < len(msg)
    assert st["closed_message_timeout"] == 1 and st["closed_idle"] == 0, st
    assert fig["max_ms"] < 1000, fig


def test_slow_reader_of_a_big_reply_is_not_idle():
    payload = os.urandom(2 * MiB)
    msg = echo_call(7, payload)
    with Server("echo_thrift", "--idle-timeout-ms", "500", "--message-timeout-ms", "500",
                "--max-frame", str(4 * MiB)) as srv:
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        s.connect((srv.addr, srv.port))
        s.settimeout(10)
        s.sendall(msg)
        got = bytearray()
        t0 = time.monotonic()
        while len(got) < len(msg):
            b = s.recv(16384)
            assert b, f"closed after {len(got)} of {len(msg)} bytes"
            got += b
            time.sleep(0.02)
        took = time.monotonic() - t0
        s.close()
        srv.assert_clean()
    st = srv.counters()
    print(f"2 MiB reply read in {took:.1f} s with idle_timeout_ms=500")
    assert bytes(got) == msg
    assert took > 1.0, "read too fast to show anything"
    assert st["closed_idle"] == 0 and st["closed_message_timeout"] == 0, st


def test_zero_disables_the_timeouts():
    with Server("echo_thrift", "--idle-timeout-ms", "0", "--message-timeout-ms", "0") as srv:
        idle = srv.connect()
        partial = srv.connect()
        m = echo_call(3, b"late")
        partial.sendall(m[:10])
        time.sleep(1.5)
        partial.sendall(m[10:])
        assert recv_exact(partial, len(m)) == m
        idle.sendall(echo_call(4))
        assert recv_exact(idle, len(echo_call(4))) == echo_call(4)
        idle.close()
        partial.close()
        srv.assert_clean()
    st = srv.counters()
    assert st["closed_idle"] == 0 and st["closed_message_timeout"] == 0, st


def test_churn_refuses_no_sequential_connect_and_keeps_the_good_client_served():
    with Server("echo_thrift", "--max-conns", "64") as srv:
        good = GoodClient(srv.connect).start()
        t0 = time.monotonic()
        churn(srv.addr, srv.port, 1000)
        took = time.monotonic() - t0
        answered = churn(srv.addr, srv.port, 100, call=True)
        lat = good.stop()
        srv.assert_clean()
    st = srv.counters()
    fig = latency_figures(lat)
    print(f"1000 connect/close pairs in {took:.1f} s, max_conns=64: good client {fig}, "
          f"refused {st['refused']}")
    assert answered == 100
    assert st["refused"] == 0 and st["refused_max_conns"] == 0, st
    assert st["accepted"] == 1101 and st["closed"] == 1101 and st["live"] == 0, st
    assert fig["max_ms"] < 1000, fig


def test_max_conns_counts_live_connections_and_refusals():
    with Server("echo_thrift", "--max-conns", "3") as srv:
        held = [srv.connect() for _ in range(3)]
        for i, s in enumerate(held):
            s.sendall(echo_call(i))
            assert recv_exact(s, len(echo_call(i))) == echo_call(i)
        extra = srv.connect()
        assert closed_by_peer(extra)
        extra.close()
        # Two peers close; the slots are free again at once.
        for s in held[:2]:
            s.close()
        deadline = time.monotonic() + 10
        again = []
        while len(again) < 2:
            s = srv.connect()
            s.sendall(echo_call(50))
            s.settimeout(2)
            try:
                if recv_exact(s, len(echo_call(50))) == echo_call(50):
                    again.append(s)
                    continue
            except (EOFError, ConnectionResetError, socket.timeout):
                pass
            s.close()
            assert time.monotonic() < deadline, "slots not freed"
        for s in again + held[2:]:
            s.close()
        srv.assert_clean()
    st = srv.counters()
    assert st["refused_max_conns"] >= 1 and st["refused"] == st["refused_max_conns"], st
    assert st["live"] == 0, st


def test_undelimitable_input_counts_as_bad_input():
    with Server("echo_thrift", "--max-frame", "1024") as srv:
        with srv.connect() as s:
            s.sendall(struct.pack(">I", 4096) + b"x" * 10)
            assert closed_by_peer(s)
        with srv.connect() as s:
            s.sendall(struct.pack(">I", 12) + b"\x00" * 12)   # unreadable header
            assert closed_by_peer(s)
        srv.assert_clean()
    st = srv.counters()
    assert st["closed_bad_input"] == 2, st
