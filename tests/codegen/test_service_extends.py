"""`extends` across an include, and TMultiplexedProtocol, on the user-space server.

derived.thrift: Leaf extends Derived extends shared.SharedService. The module
serves Leaf; the base services' methods dispatch to their own handler tables.
"""

from __future__ import annotations

import pytest
import thriftpy2
from thriftpy2.protocol import TBinaryProtocolFactory, TMultiplexedProtocolFactory
from thriftpy2.rpc import make_client
from thriftpy2.thrift import TApplicationException
from thriftpy2.transport import TFramedTransportFactory

from codegen_util import REPO, UserServer, gen, make

INPUTS = REPO / "tests" / "golden" / "inputs"
derived = thriftpy2.load(str(INPUTS / "derived.thrift"), module_name="derived_thrift",
                         include_dirs=[str(INPUTS)])
shared = derived.__thrift_meta__["includes"][0]


def build(tmp_path_factory, name, **opts):
    out = tmp_path_factory.mktemp(name)
    gen(INPUTS / "derived.thrift", out, handler="derived_handler.c", **opts)
    r = make(out, "user")
    assert r.returncode == 0, r.stdout + r.stderr
    return next(out.glob("*_user"))


@pytest.fixture(scope="module")
def leaf_bin(tmp_path_factory):
    return build(tmp_path_factory, "leaf", service="Leaf")


@pytest.fixture(scope="module")
def mux_bin(tmp_path_factory):
    return build(tmp_path_factory, "mux", multiplex=True, module_name="mux")


def client(service, port, mux_name=None):
    proto = TBinaryProtocolFactory()
    if mux_name:
        proto = TMultiplexedProtocolFactory(proto, mux_name)
    return make_client(service, "127.0.0.1", port, proto_factory=proto,
                       trans_factory=TFramedTransportFactory(), timeout=5000)


def test_extends_chain(leaf_bin):
    assert leaf_bin.name == "derived_user"
    with UserServer(leaf_bin) as srv:
        c = client(derived.Leaf, srv.port)
        c.put(shared.SharedStruct(key=3, value="three"))
        c.put(shared.SharedStruct(key=5, value="five"))
        with pytest.raises(derived.NotFound) as ei:
            c.put(shared.SharedStruct(key=9, value="nine"))
        assert ei.value.what == "no such slot"
        got = c.getStruct(3)  # SharedService, from the included file
        assert (got.key, got.value) == (3, "three")
        c.ping()  # oneway, in the base of the base
        assert [(s.key, s.value) for s in c.all()] == [(3, "three"), (5, "five")]
        assert c.count() == 2001
        with pytest.raises(TApplicationException) as ei:
            c.getStruct(100)  # handler error
        assert ei.value.type == TApplicationException.INTERNAL_ERROR
        assert srv.stop() == 0


def test_multiplexed(mux_bin):
    assert mux_bin.name == "mux_user"
    with UserServer(mux_bin) as srv:
        d = client(derived.Derived, srv.port, "Derived")
        leaf = client(derived.Leaf, srv.port, "Leaf")
        d.put(shared.SharedStruct(key=1, value="one"))
        assert d.getStruct(1).value == "one"
        assert leaf.count() == 1000
        bad = client(derived.Leaf, srv.port, "NoSuchService")
        with pytest.raises(TApplicationException) as ei:
            bad.count()
        assert ei.value.type == TApplicationException.UNKNOWN_METHOD
        # a plain (non-multiplexed) client reaches the default service
        assert client(derived.Leaf, srv.port).count() == 1000
