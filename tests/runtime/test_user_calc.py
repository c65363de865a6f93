"""Real replies: the calc test service (decoded by hand, replies through
kg_call_reply()) against thriftpy2 clients, and the runtime's own outbound
client (kg_connect() + kg_conn_send_message()) against it."""

import os
import subprocess

import pytest

from _testsvc import CLIENT, SAN_ENV, SAN_PATTERN, Server, build

pytestmark = pytest.mark.xdist_group("runtime-user-server")

CALC_IDL = """
service Calc {
    i32 add(1: i32 a, 2: i32 b)
    void ping()
    oneway void note(1: i32 x)
    i32 mul(1: i32 a, 2: i32 b)
}
"""

# Same method name, wrong argument types: the server cannot decode it.
BAD_IDL = """
service Calc {
    i32 add(1: string a, 2: string b)
}
"""


@pytest.fixture(scope="module", autouse=True)
def testsvc_binary():
    return build()


@pytest.fixture(scope="module")
def idl(tmp_path_factory):
    thriftpy2 = pytest.importorskip("thriftpy2")
    d = tmp_path_factory.mktemp("calc")
    (d / "calc.thrift").write_text(CALC_IDL)
    (d / "bad.thrift").write_text(BAD_IDL)
    return (thriftpy2.load(str(d / "calc.thrift"), module_name="calc_thrift"),
            thriftpy2.load(str(d / "bad.thrift"), module_name="bad_thrift"))


def client_for(module, port, transport):
    from thriftpy2.protocol import TBinaryProtocolFactory
    from thriftpy2.rpc import make_client
    from thriftpy2.transport import TBufferedTransportFactory, TFramedTransportFactory

    factory = TFramedTransportFactory() if transport == "framed" else TBufferedTransportFactory()
    return make_client(module.Calc, "127.0.0.1", port, proto_factory=TBinaryProtocolFactory(),
                       trans_factory=factory, timeout=10000)


@pytest.mark.parametrize("transport", ["framed", "buffered"])
def test_calc_with_thriftpy2(idl, transport):
    from thriftpy2.thrift import TApplicationException

    calc, bad = idl
    with Server("calc", "--transport", transport) as srv:
        c = client_for(calc, srv.port, transport)
        try:
            assert c.add(2, 3) == 5
            assert c.add(-7, 3) == -4
            assert c.add(2**31 - 1, 1) == -2**31          # i32 wraps
            assert c.ping() is None
            c.note(5)                                      # oneway: no reply
            assert c.add(40, 2) == 42                      # and the stream is still in step
            with pytest.raises(TApplicationException) as exc:
                c.mul(2, 3)
            assert exc.value.type == TApplicationException.UNKNOWN_METHOD
            assert c.add(1, 1) == 2
        finally:
            c.close()
        b = client_for(bad, srv.port, transport)
        try:
            with pytest.raises(TApplicationException) as exc:
                b.add("x", "y")
            assert exc.value.type == TApplicationException.PROTOCOL_ERROR
        finally:
            b.close()
        st = srv.assert_clean()
    assert st["appex"] == 2


@pytest.mark.parametrize("transport,sndbuf", [("framed", 1 << 20), ("framed", 4096),
                                              ("buffered", 4096)])
def test_runtime_outbound_client(transport, sndbuf):
    """kg_connect() while the connect is in progress, pipelined
    kg_conn_send_message() until -ENOBUFS, replies through the client
    service's process(), checked in order; both sides sanitizer-clean."""
    with Server("calc", "--transport", transport) as srv:
        res = subprocess.run([str(CLIENT), "--port", str(srv.port), "--transport", transport,
                              "--count", "20000", "--sndbuf", str(sndbuf)],
                             capture_output=True, text=True, timeout=90,
                             env=dict(os.environ, **SAN_ENV))
        assert not SAN_PATTERN.search(res.stderr), res.stderr
        assert res.returncode == 0, res.stderr
        assert res.stdout.startswith("ok 20000")
        if sndbuf == 4096:
            assert " full 0" not in res.stdout     # the send limit was hit and recovered
        st = srv.assert_clean()
    assert st["messages"] == 20000
