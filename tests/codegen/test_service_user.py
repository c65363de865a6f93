"""The generated forwarder, built as a user-space server, driven by thriftpy2 clients.

Backends are thriftpy2 servers implementing the same service: the forwarder passes
each oneway `msg` on to backend (key mod n) without re-encoding it.
"""

from __future__ import annotations

import re
import socket
import struct
import threading
import time

import pytest
import thriftpy2
from thriftpy2.protocol import TBinaryProtocolFactory
from thriftpy2.rpc import make_client, make_server
from thriftpy2.thrift import TApplicationException
from thriftpy2.transport import TBufferedTransportFactory, TFramedTransportFactory

from codegen_util import REPO, UserServer, gen, make

IDL = REPO / "idl" / "forwarder.thrift"
fw = thriftpy2.load(str(IDL), module_name="forwarder_thrift")

TRANSPORTS = {"framed": TFramedTransportFactory, "buffered": TBufferedTransportFactory}


@pytest.fixture(scope="module")
def forwarder_bin(tmp_path_factory):
    out = tmp_path_factory.mktemp("fwd")
    gen(IDL, out, handler="forwarder_handler.c")
    r = make(out, "user")
    assert r.returncode == 0, r.stdout + r.stderr
    return out / "forwarder_user"


@pytest.fixture(scope="module")
def skeleton_bin(tmp_path_factory):
    out = tmp_path_factory.mktemp("skel")
    gen(IDL, out)
    r = make(out, "user")
    assert r.returncode == 0, r.stdout + r.stderr
    return out / "forwarder_user"


def client(port, transport, timeout=5000):
    return make_client(fw.Forwarder, "127.0.0.1", port, trans_factory=TRANSPORTS[transport](),
                       timeout=timeout)


class Backend:
    """A thriftpy2 Forwarder server that records the messages it gets."""

    def __init__(self, transport):
        self.got = []
        self.lock = threading.Lock()
        outer = self

        class H:
            def msg(self, key, payload):
                with outer.lock:
                    outer.got.append((key, payload))

        probe = socket.socket()
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
        probe.close()
        self.server = make_server(fw.Forwarder, H(), "127.0.0.1", port, client_timeout=60000,
                                  trans_factory=TRANSPORTS[transport]())
        self.server.trans.listen()
        self.port = self.server.trans.sock.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        try:
            while not getattr(self.server, "closed", False):
                c = self.server.trans.accept()
                t = threading.Thread(target=self.server.handle, args=(c,), daemon=True)
                t.start()
        except Exception:  # noqa: BLE001 - closed
            pass

    def close(self):
        self.server.closed = True
        try:
            self.server.trans.close()
        except Exception:  # noqa: BLE001
            pass


def wait_for(pred, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        if pred():
            return True
        time.sleep(0.02)
    return pred()


@pytest.mark.parametrize("transport", ["framed", "buffered"])
def test_forwarder_forwards_by_key(forwarder_bin, transport):
    b0, b1 = Backend(transport), Backend(transport)
    try:
        with UserServer(forwarder_bin, "--transport", transport) as srv:
            c = client(srv.port, transport)
            st = c.stats()
            assert (st.forwarded, st.dropped, st.backends) == (0, 0, 0)
            c.msg(7, "nobody listens")  # no backends yet: dropped
            c.connect([fw.Backend(addr="127.0.0.1", port=b0.port),
                       fw.Backend(addr="127.0.0.1", port=b1.port)])
            for key in range(20):
                c.msg(key, f"payload {key} " + "x" * key)
            assert wait_for(lambda: len(b0.got) + len(b1.got) == 20), (b0.got, b1.got)
            assert sorted(k for k, _ in b0.got) == list(range(0, 20, 2))
            assert sorted(k for k, _ in b1.got) == list(range(1, 20, 2))
            assert all(p == f"payload {k} " + "x" * k for k, p in b0.got + b1.got)
            st = c.stats()
            assert (st.forwarded, st.dropped, st.backends) == (20, 1, 2)
            c.close_backends()
            assert c.stats().backends == 0
            c.close()
            assert srv.stop() == 0
    finally:
        b0.close()
        b1.close()


@pytest.mark.parametrize("transport", ["framed", "buffered"])
def test_declared_exception(forwarder_bin, transport):
    with UserServer(forwarder_bin, "--transport", transport) as srv:
        c = client(srv.port, transport)
        with pytest.raises(fw.BackendError) as ei:
            c.connect([fw.Backend(addr="127.0.0.1", port=0)])
        assert ei.value.message == "cannot connect"
        assert ei.value.errno_value > 0
        with pytest.raises(fw.BackendError) as ei:
            c.connect([fw.Backend(addr="127.0.0.1", port=1)] * 17)
        assert ei.value.message == "too many backends"
        # the connection is still usable after an exception
        assert c.stats().backends == 0


@pytest.mark.parametrize("transport", ["framed", "buffered"])
def test_skeleton_not_implemented(skeleton_bin, transport):
    with UserServer(skeleton_bin, "--transport", transport) as srv:
        c = client(srv.port, transport)
        with pytest.raises(TApplicationException) as ei:
            c.stats()
        assert ei.value.type == TApplicationException.INTERNAL_ERROR
        assert "not implemented" in ei.value.message
        c.msg(1, "oneway: no reply, no error")
        with pytest.raises(TApplicationException) as ei:
            c.close_backends()
        assert ei.value.type == TApplicationException.INTERNAL_ERROR


# ---- raw messages: unknown methods, bad arguments ----

def frame(body: bytes) -> bytes:
    return struct.pack(">i", len(body)) + body


def call_header(name: str, seqid: int, mtype: int = 1) -> bytes:
    n = name.encode()
    return struct.pack(">I", 0x80010000 | mtype) + struct.pack(">i", len(n)) + n + struct.pack(">i", seqid)


def read_reply(sock) -> tuple[str, int, int, bytes]:
    f = sock.makefile("rb")
    size = struct.unpack(">i", f.read(4))[0]
    body = f.read(size)
    ver = struct.unpack(">I", body[:4])[0]
    nlen = struct.unpack(">i", body[4:8])[0]
    name = body[8:8 + nlen].decode()
    seqid = struct.unpack(">i", body[8 + nlen:12 + nlen])[0]
    return name, ver & 0xFF, seqid, body[12 + nlen:]


def app_exception(payload: bytes) -> tuple[str, int]:
    from thriftpy2.protocol import TBinaryProtocol
    from thriftpy2.transport import TMemoryBuffer

    buf = TMemoryBuffer(payload)
    exc = TApplicationException()
    exc.read(TBinaryProtocol(buf))
    return exc.message, exc.type


def test_unknown_method_and_bad_args(forwarder_bin):
    with UserServer(forwarder_bin) as srv:
        s = socket.create_connection(("127.0.0.1", srv.port), 5)
        s.settimeout(5)
        s.sendall(frame(call_header("nosuch", 41) + b"\x00"))
        name, mtype, seqid, payload = read_reply(s)
        assert (name, mtype, seqid) == ("nosuch", 3, 41)
        msg, typ = app_exception(payload)
        assert typ == TApplicationException.UNKNOWN_METHOD and "nosuch" in msg
        # connect(1: list<Backend>) with a list claiming more elements than there are bytes
        args = b"\x0f\x00\x01" + b"\x0c" + struct.pack(">i", 1000) + b"\x00"
        s.sendall(frame(call_header("connect", 42) + args))
        name, mtype, seqid, payload = read_reply(s)
        assert (name, mtype, seqid) == ("connect", 3, 42)
        assert app_exception(payload)[1] == TApplicationException.PROTOCOL_ERROR
        # a Backend missing its required port
        args = (b"\x0f\x00\x01\x0c" + struct.pack(">i", 1) + b"\x0b\x00\x01" + struct.pack(">i", 1)
                + b"a" + b"\x00" + b"\x00")
        s.sendall(frame(call_header("connect", 43) + args))
        name, mtype, seqid, payload = read_reply(s)
        assert (mtype, seqid) == (3, 43)
        assert app_exception(payload)[1] == TApplicationException.PROTOCOL_ERROR
        # still serving on the same connection
        s.sendall(frame(call_header("stats", 44) + b"\x00"))
        name, mtype, seqid, payload = read_reply(s)
        assert (name, mtype, seqid) == ("stats", 2, 44)
        s.close()


def test_flags(forwarder_bin):
    import subprocess

    r = subprocess.run([str(forwarder_bin), "--help"], capture_output=True, text=True)
    assert r.returncode == 0 and "--transport" in r.stdout and "--max-frame" in r.stdout
    r = subprocess.run([str(forwarder_bin), "--transport", "carrier-pigeon"], capture_output=True,
                       text=True)
    assert r.returncode == 2 and "carrier-pigeon" in r.stderr
    r = subprocess.run([str(forwarder_bin), "--port", "notaport"], capture_output=True, text=True)
    assert r.returncode == 2
    # the flags are the runtime's (thrift_kgen/runtime/user/usermain.c): one per module parameter
    from thrift_kgen.codegen.params import PARAMS

    r = subprocess.run([str(forwarder_bin), "--help"], capture_output=True, text=True)
    for p in PARAMS:
        assert re.search(rf"^  --{p.flag} (N|S|WORD) ", r.stdout, re.M), p.flag
    for bad in (["--port", "65536"], ["--max-frame", "-1"], ["--protocol", "json"], ["extra"]):
        r = subprocess.run([str(forwarder_bin), *bad], capture_output=True, text=True)
        assert r.returncode == 2 and r.stderr, (bad, r.stderr)
    # a limit is applied: a message over --max-frame closes the connection
    with UserServer(forwarder_bin, "--max-frame", "64") as srv:
        s = socket.create_connection(("127.0.0.1", srv.port), 5)
        s.settimeout(5)
        s.sendall(frame(call_header("stats", 1) + b"\x00" * 100))
        assert s.recv(100) == b""
        s.close()
        assert srv.stop() == 0


def test_counters_printed_on_exit(forwarder_bin):
    """SIGTERM: the counters on stderr, the lines of /sys/kernel/debug/<module>/stats."""
    with UserServer(forwarder_bin) as srv:
        for _ in range(2):
            c = client(srv.port, "framed")
            for _ in range(5):
                c.stats()
            c.close()
        s = socket.create_connection(("127.0.0.1", srv.port), 5)
        s.settimeout(5)
        s.sendall(frame(call_header("nosuch", 7) + b"\x00"))
        read_reply(s)
        s.close()
        assert srv.stop() == 0
        err = srv.proc.stderr.read()
    st = {m.group(1): int(m.group(2)) for m in re.finditer(r"^(\w+) (\d+)$", err, re.M)}
    assert set(st) == {"accepted", "refused", "closed", "messages", "bad_messages",
                       "app_exceptions", "bytes_in", "bytes_out", "bytes_out_zerocopy", "backpressure",
                       "parse_bytes",
                       "live", "refused_max_conns", "closed_idle", "closed_message_timeout",
                       "closed_bad_input",
                       "mem_budget", "mem_in_use", "mem_peak", "mem_cached", "mem_pressure",
                       "refused_memory", "closed_memory", "closed_reply_too_large",
                       "conns_binary", "conns_compact",
                       "dgrams_in", "dgrams_dropped", "dgrams_lost", "rx_inplace_bytes"}, err
    assert st["rx_inplace_bytes"] == 0, err   # user space copies (no KGEN_TEST_RX_BORROW here)
    assert st["dgrams_in"] == 0 and st["dgrams_dropped"] == 0, err    # TCP only (listen=tcp)
    assert st["mem_in_use"] == 0 and 0 < st["mem_peak"] <= st["mem_budget"], err
    assert st["mem_cached"] == 0, err   # the last reap emptied the buffer cache
    assert st["live"] == 0 and st["closed_idle"] == 0 and st["closed_bad_input"] == 0, err
    assert st["accepted"] == 3 and st["closed"] == 3 and st["refused"] == 0, err
    assert st["conns_binary"] == 3 and st["conns_compact"] == 0, err
    assert st["messages"] == 11 and st["app_exceptions"] == 1, err
    assert st["bytes_in"] > 0 and st["bytes_out"] > 0, err
