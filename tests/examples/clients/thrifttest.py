# SPDX-License-Identifier: GPL-2.0
"""Client driver of examples/thrifttest: Apache's cross-language ThriftTest service.

Every method is called with thriftpy2 with strict and non-strict message headers
(TBinaryProtocolFactory(strict_read=..., strict_write=...)); the server's transport
(framed or buffered) is the Target's.  thriftpy2 0.7 has no uuid type: its view of the
IDL drops the uuid lines, and testUuid is encoded and decoded by hand.
"""

from __future__ import annotations

import io
import math
import os
import re
import socket
import struct
import time
from pathlib import Path

import thriftpy2
from thriftpy2.thrift import TApplicationException

from .common import IDL, Target, recv_exactly
from .wire import Reader, T_STRUCT, T_UUID

_text = "\n".join(line for line in (IDL / "ThriftTest.thrift").read_text().splitlines()
                  if not re.match(r"^\s*(\d+:\s*)?uuid\s", line))
tt = thriftpy2.load_fp(io.StringIO(_text), module_name="thrifttest_thrift")
T = tt.ThriftTest

# (strict_read, strict_write): strict headers both ways, old-style both ways, mixed.
MODES = [(True, True), (False, False), (True, False), (False, True)]


def clients(t: Target, modes=MODES):
    for sr, sw in modes:
        c = t.client(T, strict_read=sr, strict_write=sw)
        try:
            yield c
        finally:
            c.close()


def check_primitives(t: Target, workdir: Path):
    for c in clients(t):
        assert c.testVoid() is None
        for s in ("", "Test", "h\u00e9llo \u2603 \U0001f600", "x" * 70000):
            assert c.testString(s) == s
        for b in (True, False):
            assert c.testBool(b) is b
        for v in (0, 1, -1, 127, -128):
            assert c.testByte(v) == v
        for v in (0, -1, 2**31 - 1, -2**31):
            assert c.testI32(v) == v
        for v in (0, -1, 2**63 - 1, -2**63, 1 << 40):
            assert c.testI64(v) == v
        for v in (0.0, -0.0, 1.5, -3.25e-300, 1.7976931348623157e308, math.inf, -math.inf):
            r = c.testDouble(v)
            assert struct.pack("!d", r) == struct.pack("!d", v), (v, r)
        assert math.isnan(c.testDouble(math.nan))
        for b in (b"", bytes(range(256)), os.urandom(10000)):
            assert c.testBinary(b) == b
        for e in (tt.Numberz.ONE, tt.Numberz.FIVE, tt.Numberz.EIGHT):
            assert c.testEnum(e) == e
        assert c.testTypedef(309858235082523) == 309858235082523


def check_structs(t: Target, workdir: Path):
    x = tt.Xtruct(string_thing="Zero", byte_thing=1, i32_thing=-3, i64_thing=-5)
    for c in clients(t):
        assert c.testStruct(x) == x
        assert c.testStruct(tt.Xtruct()) == tt.Xtruct()
        n = tt.Xtruct2(byte_thing=1, struct_thing=x, i32_thing=5)
        assert c.testNest(n) == n


def check_containers(t: Target, workdir: Path):
    for c in clients(t):
        m = {i: i - 10 for i in range(5)}
        assert c.testMap(m) == m
        assert c.testMap({}) == {}
        sm = {"a": "2", "b": "blah", "some": "thing", "\u2603": ""}
        assert c.testStringMap(sm) == sm
        s = {-2, -1, 0, 1, 2, 2**31 - 1}
        r = c.testSet(s)
        assert set(r) == s and len(r) == len(s), r     # thriftpy2 gives a list
        li = [-2, -1, 0, 1, 2, 1, 1]
        assert c.testList(li) == li
        assert c.testList(list(range(10000))) == list(range(10000))


def check_map_map_insanity_multi(t: Target, workdir: Path):
    want_mm = {-4: {-4: -4, -3: -3, -2: -2, -1: -1}, 4: {1: 1, 2: 2, 3: 3, 4: 4}}
    arg = tt.Insanity(userMap={tt.Numberz.FIVE: 5, tt.Numberz.EIGHT: 8},
                      xtructs=[tt.Xtruct(string_thing="Goodbye4", byte_thing=4, i32_thing=4,
                                         i64_thing=4),
                               tt.Xtruct(string_thing="Hello2", byte_thing=2, i32_thing=2,
                                         i64_thing=2)])
    for c in clients(t):
        assert c.testMapMap(1) == want_mm
        r = c.testInsanity(arg)
        assert set(r) == {1, 2} and set(r[1]) == {tt.Numberz.TWO, tt.Numberz.THREE}, r
        assert r[1][tt.Numberz.TWO] == arg and r[1][tt.Numberz.THREE] == arg, r
        assert set(r[2]) == {tt.Numberz.SIX}, r
        empty = r[2][tt.Numberz.SIX]
        assert not empty.userMap and not empty.xtructs, empty
        x = c.testMulti(7, 2**31 - 1, -2**63, {1: "one", -2: "minus two"}, tt.Numberz.TWO, 99)
        assert x == tt.Xtruct(string_thing="Hello2", byte_thing=7, i32_thing=2**31 - 1,
                              i64_thing=-2**63), x


def check_exceptions(t: Target, workdir: Path):
    for c in clients(t):
        try:
            c.testException("Xception")
            raise AssertionError("no Xception")
        except tt.Xception as e:
            assert (e.errorCode, e.message) == (1001, "Xception"), e
        try:
            c.testException("TException")
            raise AssertionError("no TApplicationException")
        except TApplicationException as e:
            assert e.type == TApplicationException.INTERNAL_ERROR, e
        assert c.testException("success") is None
        assert c.testException("") is None
        try:
            c.testMultiException("Xception", "test 1")
            raise AssertionError("no Xception")
        except tt.Xception as e:
            assert (e.errorCode, e.message) == (1001, "This is an Xception"), e
        try:
            c.testMultiException("Xception2", "test 2")
            raise AssertionError("no Xception2")
        except tt.Xception2 as e:
            assert e.errorCode == 2002, e
            assert e.struct_thing.string_thing == "This is an Xception2", e
        r = c.testMultiException("success", "test 3")
        assert r.string_thing == "test 3", r


def check_oneway(t: Target, workdir: Path):
    """testOneway(10) returns at once (oneway) and the server does not sleep on it:
    the next call on the same connection is answered well before 10 s (a slow VM
    still answers in far less)."""
    for c in clients(t, MODES[:2]):
        t0 = time.monotonic()
        c.testOneway(10)
        assert c.testI32(42) == 42
        assert time.monotonic() - t0 < 8, "the server slept in testOneway"


def _uuid_call(t: Target, u: bytes, strict: bool, seqid: int = 7) -> tuple:
    args = struct.pack("!bh", T_UUID, 1) + u + b"\x00"
    name = b"testUuid"
    if strict:
        hdr = struct.pack("!Ii", 0x80010001, len(name)) + name + struct.pack("!i", seqid)
    else:
        hdr = struct.pack("!i", len(name)) + name + struct.pack("!bi", 1, seqid)
    msg = hdr + args
    s = socket.create_connection((t.host, t.port), timeout=20)
    try:
        if t.transport == "framed":
            s.sendall(struct.pack("!i", len(msg)) + msg)
            (n,) = struct.unpack("!i", recv_exactly(s, 4))
            reply = recv_exactly(s, n)
        else:
            s.sendall(msg)
            s.shutdown(socket.SHUT_WR)
            reply = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break
                reply += chunk
    finally:
        s.close()
    return Reader(reply).message()


def check_uuid(t: Target, workdir: Path):
    """testUuid, hand-encoded (thriftpy2 has no uuid): strict and non-strict."""
    for strict in (True, False):
        for u in (bytes(16), bytes(range(16)), os.urandom(16), b"\xff" * 16):
            name, mtype, seqid, res = _uuid_call(t, u, strict)
            assert (name, mtype, seqid) == ("testUuid", 2, 7), (name, mtype, seqid)
            assert res == {0: u}, res


def check_second_connection_works(t: Target, workdir: Path):
    """Many short connections (cross-test clients connect per test)."""
    for i in range(50):
        c = t.client(T)
        try:
            assert c.testI32(i) == i
        finally:
            c.close()


assert T_STRUCT == 12
CHECKS = [check_primitives, check_structs, check_containers, check_map_map_insanity_multi,
          check_exceptions, check_oneway, check_uuid, check_second_connection_works]
