"""Run in the VM guest (or anywhere): drive a forwarder server with thriftpy2.

    python generated_forwarder_client.py PORT TRANSPORT

Starts two thriftpy2 backends, has the forwarder connect to them, sends oneway
messages and checks each landed on backend (key mod 2); prints OK at the end.
"""

import socket
import sys
import threading
import time
from pathlib import Path

import thriftpy2
from thriftpy2.rpc import make_client, make_server
from thriftpy2.thrift import TApplicationException
from thriftpy2.transport import TBufferedTransportFactory, TFramedTransportFactory

REPO = Path(__file__).resolve().parents[2]
fw = thriftpy2.load(str(REPO / "idl" / "forwarder.thrift"), module_name="forwarder_thrift")
TF = {"framed": TFramedTransportFactory, "buffered": TBufferedTransportFactory}


def backend(transport):
    got = []

    class H:
        def msg(self, key, payload):
            got.append((key, payload))

    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    srv = make_server(fw.Forwarder, H(), "127.0.0.1", port, client_timeout=60000,
                      trans_factory=TF[transport]())
    srv.trans.listen()

    def serve():
        while True:
            c = srv.trans.accept()
            threading.Thread(target=srv.handle, args=(c,), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    return port, got


def main():
    port, transport = int(sys.argv[1]), sys.argv[2]
    c = make_client(fw.Forwarder, "127.0.0.1", port, trans_factory=TF[transport](), timeout=10000)
    st = c.stats()
    assert (st.forwarded, st.dropped, st.backends) == (0, 0, 0), st
    (p0, got0), (p1, got1) = backend(transport), backend(transport)
    c.connect([fw.Backend(addr="127.0.0.1", port=p0), fw.Backend(addr="127.0.0.1", port=p1)])
    n = 200
    for key in range(n):
        c.msg(key, f"message {key}")
    end = time.time() + 20
    while len(got0) + len(got1) < n and time.time() < end:
        time.sleep(0.05)
    assert sorted(k for k, _ in got0) == list(range(0, n, 2)), got0
    assert sorted(k for k, _ in got1) == list(range(1, n, 2)), got1
    assert all(p == f"message {k}" for k, p in got0 + got1)
    st = c.stats()
    assert (st.forwarded, st.dropped, st.backends) == (n, 0, 2), st
    try:
        c.connect([fw.Backend(addr="not an address", port=1)])
        raise AssertionError("no BackendError")
    except fw.BackendError as e:
        assert e.message == "cannot connect", e
    c.close_backends()
    assert c.stats().backends == 0
    # unknown method -> TApplicationException UNKNOWN_METHOD, connection still usable
    other = thriftpy2.load_fp(__import__("io").StringIO(
        "service Forwarder { i32 nosuch() }"), module_name="other_thrift")
    oc = make_client(other.Forwarder, "127.0.0.1", port, trans_factory=TF[transport](), timeout=10000)
    try:
        oc.nosuch()
        raise AssertionError("no exception")
    except TApplicationException as e:
        assert e.type == TApplicationException.UNKNOWN_METHOD, e
    oc.close()
    c.close()
    print("OK", transport, n)


if __name__ == "__main__":
    main()
