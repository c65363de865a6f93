"""protocol=auto, the default: each connection's protocol from its first bytes.

The generated forwarder, built with ASan and UBSan, serves thriftpy2 clients of every protocol
(strict binary, old non-strict binary, compact) and transport (framed, buffered) at once on one
server (`--transport auto` for the buffered ones to share it); each gets its replies in its own
protocol, which its client must decode. `--protocol binary|compact` still fixes one.
"""

from __future__ import annotations

import re
import socket
import struct
import threading

import pytest
import thriftpy2
from thriftpy2.protocol import TBinaryProtocolFactory, TCompactProtocolFactory
from thriftpy2.rpc import make_client
from thriftpy2.transport import TBufferedTransportFactory, TFramedTransportFactory

from codegen_util import REPO, UserServer, gen, make

IDL = REPO / "idl" / "forwarder.thrift"
fw = thriftpy2.load(str(IDL), module_name="forwarder_thrift")

PROTOCOLS = {
    "binary": lambda: TBinaryProtocolFactory(),
    "binary-old": lambda: TBinaryProtocolFactory(strict_read=False, strict_write=False),
    "compact": lambda: TCompactProtocolFactory(),
}
TRANSPORTS = {"framed": TFramedTransportFactory, "buffered": TBufferedTransportFactory}


@pytest.fixture(scope="module")
def forwarder_san(tmp_path_factory):
    out = tmp_path_factory.mktemp("fwd_auto")
    gen(IDL, out, handler=REPO / "examples" / "forwarder" / "forwarder_handler.c")
    r = make(out, "user", env={"SAN": "1"})
    assert r.returncode == 0, r.stdout + r.stderr
    return out / "forwarder_user"


def client(port, proto, transport):
    return make_client(fw.Forwarder, "127.0.0.1", port, proto_factory=PROTOCOLS[proto](),
                       trans_factory=TRANSPORTS[transport](), timeout=10000)


def stop_counters(srv) -> dict[str, int]:
    assert srv.stop() == 0
    err = srv.proc.stderr.read()
    assert "ERROR: AddressSanitizer" not in err and "runtime error" not in err, err
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+) (\d+)$", err, re.M)}


def run_clients(port, combos, calls):
    """Each (protocol, transport) in its own thread, all connected before any calls: `calls`
    rounds of a oneway msg (dropped: no backends) and a stats() call, whose reply it decodes."""
    clients = [client(port, p, t) for p, t in combos]
    errors, barrier = [], threading.Barrier(len(clients))

    def work(c, name):
        try:
            barrier.wait(10)
            for i in range(calls):
                c.msg(i, f"{name} {i}")
                st = c.stats()
                assert st.backends == 0 and st.forwarded == 0 and st.dropped >= i + 1
        except Exception as e:  # noqa: BLE001 - reported below
            errors.append(f"{name}: {e!r}")

    threads = [threading.Thread(target=work, args=(c, f"{p}/{t}")) for c, (p, t) in
               zip(clients, combos)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    final = clients[0].stats()
    for c in clients:
        c.close()
    return final


def test_every_client_on_one_server_at_once(forwarder_san):
    combos = [(p, t) for p in PROTOCOLS for t in TRANSPORTS]
    calls = 30
    with UserServer(forwarder_san, "--transport", "auto") as srv:
        final = run_clients(srv.port, combos, calls)
        assert final.dropped == len(combos) * calls
        st = stop_counters(srv)
    assert st["conns_binary"] == 4 and st["conns_compact"] == 2, st
    assert st["accepted"] == 6 and st["closed"] == 6, st
    # msg + stats per call, and the last stats()
    assert st["messages"] == len(combos) * calls * 2 + 1, st
    assert st["bad_messages"] == 0 and st["closed_bad_input"] == 0, st


def test_default_server_takes_framed_binary_and_compact(forwarder_san):
    """No flags: framed, protocol auto. A buffered client is still refused (the transport is
    not detected unless --transport auto)."""
    combos = [(p, "framed") for p in PROTOCOLS]
    with UserServer(forwarder_san) as srv:
        run_clients(srv.port, combos, 10)
        c = client(srv.port, "compact", "buffered")
        with pytest.raises(Exception):
            c.stats()
        c.close()
        st = stop_counters(srv)
    # The buffered compact client's first byte after a "length" 0x82..: refused as a frame.
    assert st["conns_binary"] == 2 and st["conns_compact"] == 1, st
    assert st["closed_bad_input"] == 1, st


@pytest.mark.parametrize("fixed,other", [("binary", "compact"), ("compact", "binary")])
def test_fixed_protocol_refuses_the_other(forwarder_san, fixed, other):
    """--protocol binary (the old default) refuses a compact client as before, and the
    reverse; counted by the protocol fixed, at accept."""
    with UserServer(forwarder_san, "--protocol", fixed) as srv:
        good = client(srv.port, fixed, "framed")
        assert good.stats().dropped == 0
        bad = client(srv.port, other, "framed")
        with pytest.raises(Exception):
            bad.stats()
        bad.close()
        assert good.stats().dropped == 0    # the good one is still served
        good.close()
        st = stop_counters(srv)
    assert st["bad_messages"] == 1 and st["closed_bad_input"] == 1, st
    assert st[f"conns_{fixed}"] == 2 and st[f"conns_{other}"] == 0, st


# ---- the first bytes, by hand ----

def stats_call(seqid: int, old: bool = False) -> bytes:
    name = b"stats"
    if old:
        head = struct.pack(">i", len(name)) + name + b"\x01" + struct.pack(">i", seqid)
    else:
        head = struct.pack(">Ii", 0x80010001, len(name)) + name + struct.pack(">i", seqid)
    return head + b"\x00"


def frame(body: bytes) -> bytes:
    return struct.pack(">i", len(body)) + body


def recv_exactly(s, n):
    data = b""
    while len(data) < n:
        chunk = s.recv(n - len(data))
        if not chunk:
            break
        data += chunk
    return data


@pytest.mark.parametrize("framed", [True, False])
@pytest.mark.parametrize("old", [True, False])
def test_binary_by_hand_detected(forwarder_san, framed, old):
    """Old and strict binary, framed and not, on a --transport auto server: the reply is
    strict binary (what Apache's servers write), framed as the request was."""
    with UserServer(forwarder_san, "--transport", "auto") as srv:
        s = socket.create_connection(("127.0.0.1", srv.port), 5)
        s.settimeout(5)
        msg = stats_call(77, old)
        s.sendall(frame(msg) if framed else msg)
        if framed:
            size = struct.unpack(">i", recv_exactly(s, 4))[0]
            body = recv_exactly(s, size)
        else:
            body = recv_exactly(s, 8 + 5 + 4)
        assert body[:4] == b"\x80\x01\x00\x02", body
        assert body[8:13] == b"stats" and struct.unpack(">i", body[13:17])[0] == 77, body
        s.close()
        st = stop_counters(srv)
    assert st["conns_binary"] == 1 and st["bad_messages"] == 0, st


@pytest.mark.parametrize("args,data", [
    ((), frame(b"\x90\x21\x00\x05stats\x00")),          # framed, no protocol's first byte
    (("--transport", "auto"), b"\xff\x00\x00\x00"),     # unframed, the same
    (("--transport", "buffered"), b"\x83\x21\x01\x05stats\x00"),
])
def test_unknown_first_byte_is_bad_input(forwarder_san, args, data):
    with UserServer(forwarder_san, *args) as srv:
        s = socket.create_connection(("127.0.0.1", srv.port), 5)
        s.settimeout(5)
        s.sendall(data)
        assert s.recv(100) == b""       # closed, nothing answered
        s.close()
        st = stop_counters(srv)
    assert st["closed_bad_input"] == 1 and st["bad_messages"] == 1, st
    assert st["conns_binary"] == 0 and st["conns_compact"] == 0, st


def test_detection_waits_for_few_bytes_under_the_message_timeout(forwarder_san):
    """A client that sends 3 bytes and stops: detection waits (it needs up to 8), the message
    timeout closes it, and a client detected meanwhile is served."""
    with UserServer(forwarder_san, "--transport", "auto", "--message-timeout-ms", "300") as srv:
        s = socket.create_connection(("127.0.0.1", srv.port), 5)
        s.settimeout(10)
        s.sendall(b"\x00\x00\x00")
        c = client(srv.port, "compact", "buffered")
        assert c.stats().dropped == 0
        assert s.recv(100) == b""
        s.close()
        c.close()
        st = stop_counters(srv)
    assert st["closed_message_timeout"] == 1 and st["conns_compact"] == 1, st
    assert st["conns_binary"] == 0, st


class Backend:
    """A thriftpy2 binary Forwarder server on a thread: counts the messages it gets."""

    def __init__(self, proto="binary"):
        from thriftpy2.rpc import make_server

        self.got = []
        outer = self

        class H:
            def msg(self, key, payload):
                outer.got.append((key, payload))

        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        self.server = make_server(fw.Forwarder, H(), "127.0.0.1", port, client_timeout=60000,
                                  proto_factory=PROTOCOLS[proto](),
                                  trans_factory=TFramedTransportFactory())
        self.server.trans.listen()
        self.port = self.server.trans.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        try:
            while True:
                c = self.server.trans.accept()
                threading.Thread(target=self.server.handle, args=(c,), daemon=True).start()
        except Exception:  # noqa: BLE001 - closed
            pass

    def close(self):
        try:
            self.server.trans.close()
        except Exception:  # noqa: BLE001
            pass


def test_forwarding_keeps_the_backends_protocol(forwarder_san):
    """Outbound connections speak binary under auto: a binary client's messages are forwarded
    as received, a compact client's are not re-encoded but dropped (counted); the compact
    client still gets its replies."""
    import time

    b = Backend()
    try:
        with UserServer(forwarder_san) as srv:
            cb, cc = client(srv.port, "binary", "framed"), client(srv.port, "compact", "framed")
            cb.connect([fw.Backend(addr="127.0.0.1", port=b.port)])
            for i in range(5):
                cb.msg(i, f"binary {i}")
                cc.msg(100 + i, f"compact {i}")
            st = cc.stats()
            end = time.time() + 10
            while len(b.got) < 5 and time.time() < end:
                time.sleep(0.02)
            st = cc.stats()
            assert sorted(b.got) == [(i, f"binary {i}") for i in range(5)]
            assert (st.forwarded, st.dropped) == (5, 5)
            cb.close()
            cc.close()
            counters = stop_counters(srv)
        assert counters["conns_binary"] == 1 and counters["conns_compact"] == 1, counters
    finally:
        b.close()
