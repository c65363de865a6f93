# SPDX-License-Identifier: GPL-2.0
"""Cross-check of the C binary and compact protocols against an independent
peer, thriftpy2 (pure-Python TBinaryProtocol and TCompactProtocol).

- thriftpy2 -> C: messages with every type (strict and old-style headers)
  are decoded by the C reader (kgwalk walk: a typed walk with the reader API)
  into a canonical JSON dump, which must equal the same dump computed here
  from the thriftpy2 objects; the C writer's re-encoding must equal
  thriftpy2's strict encoding byte for byte, and decode back in thriftpy2.
- C -> thriftpy2: messages written by the C writer from a seed are decoded by
  thriftpy2 and must equal the values computed here from the same seed.
- TApplicationException both ways; every prefix of thriftpy2's messages is
  "need more bytes" to the C reader and to unframed framing.
"""
import json
import math
import random
import struct
from pathlib import Path

import pytest
import thriftpy2
from thriftpy2.protocol.binary import TBinaryProtocol
from thriftpy2.protocol.compact import TCompactProtocol
from thriftpy2.thrift import TApplicationException, TMessageType, TType
from thriftpy2.transport import TMemoryBuffer

from _kgcore import run_c

IDL = Path(__file__).resolve().parent / "kgcore_cross.thrift"
X = thriftpy2.load(str(IDL), module_name="kgcore_cross_thrift")
ENODATA = 61

SEEDS = list(range(40))


# ---- canonical dump (must match tests/runtime/c/walk.h) ----

def wire_type(t):
    return TType.STRING if t == TType.BINARY else t


def canon(ttype, val, spec=None, compact=False):
    if ttype == TType.BOOL:
        return bool(val)
    if ttype in (TType.BYTE, TType.I16, TType.I32, TType.I64):
        return int(val)
    if ttype == TType.DOUBLE:
        return {"d": struct.pack(">d", val).hex()}
    if ttype in (TType.STRING, TType.BINARY):
        b = val.encode("utf-8") if isinstance(val, str) else bytes(val)
        return {"s": b.hex()}
    if ttype == TType.STRUCT:
        return canon_struct(val, compact)
    if ttype in (TType.LIST, TType.SET):
        et, sub = spec if isinstance(spec, tuple) else (spec, None)
        key = "list" if ttype == TType.LIST else "set"
        return {key: [wire_type(et), [canon(et, v, sub, compact) for v in val]]}
    if ttype == TType.MAP:
        (kt, ks), (vt, vs) = [(s, None) if isinstance(s, int) else s for s in spec]
        if compact and not val:
            kt = vt = 0     # an empty compact map does not carry its types
        return {"map": [wire_type(kt), wire_type(vt),
                        [[canon(kt, k, ks, compact), canon(vt, v, vs, compact)]
                         for k, v in val.items()]]}
    raise AssertionError(f"type {ttype}")


def canon_struct(obj, compact=False):
    fields = []
    for fid, fs in obj.thrift_spec.items():
        ftype, fname = fs[0], fs[1]
        sub = fs[2] if len(fs) == 4 else None
        v = getattr(obj, fname, None)
        if v is None:
            continue
        fields.append([fid, wire_type(ftype), canon(ftype, v, sub, compact)])
    return {"struct": fields}


def canon_message(name, mtype, seqid, args, compact=False):
    return {"name": name.encode().hex(), "type": mtype, "seqid": seqid,
            "body": canon_struct(args, compact)}


# ---- thriftpy2 encode/decode ----

def make_proto(buf, proto, strict=True):
    if proto == "compact":
        return TCompactProtocol(buf)
    return TBinaryProtocol(buf, strict_read=strict, strict_write=strict)


def encode(name, mtype, seqid, obj, strict=True, proto="binary"):
    buf = TMemoryBuffer()
    p = make_proto(buf, proto, strict)
    p.write_message_begin(name, mtype, seqid)
    p.write_struct(obj)
    p.write_message_end()
    return buf.getvalue()


def decode(data, obj, strict=True, proto="binary"):
    p = make_proto(TMemoryBuffer(data), proto, strict)
    name, mtype, seqid = p.read_message_begin()
    p.read_struct(obj)
    p.read_message_end()
    return name, mtype, seqid, obj


COMPACT = {"KGWALK_PROTO": "compact"}


# ---- random values ----

def rand_text(rng):
    alphabet = "abcxyz \u00e9\u4e2d\U0001f600\n\"\\"
    return "".join(rng.choice(alphabet) for _ in range(rng.randrange(0, 12)))


def rand_double(rng):
    return rng.choice([0.0, -0.0, 1.5, -2.25e300, 5e-324, math.inf, -math.inf,
                       rng.uniform(-1e9, 1e9)])


def rand_inner(rng):
    return X.Inner(a=rng.randrange(-2**31, 2**31),
                   b=rand_text(rng) if rng.random() < 0.8 else None)


def maybe(rng, fn):
    return fn() if rng.random() < 0.85 else None


def rand_all(rng):
    n = lambda k: rng.randrange(0, k)  # noqa: E731
    return X.All(
        f_bool=maybe(rng, lambda: rng.random() < 0.5),
        f_byte=maybe(rng, lambda: rng.randrange(-128, 128)),
        f_i16=maybe(rng, lambda: rng.randrange(-2**15, 2**15)),
        f_i32=maybe(rng, lambda: rng.randrange(-2**31, 2**31)),
        f_i64=maybe(rng, lambda: rng.randrange(-2**63, 2**63)),
        f_double=maybe(rng, lambda: rand_double(rng)),
        f_string=maybe(rng, lambda: rand_text(rng)),
        f_binary=maybe(rng, lambda: bytes(rng.randrange(256) for _ in range(n(40)))),
        f_inner=maybe(rng, lambda: rand_inner(rng)),
        f_list=maybe(rng, lambda: [rng.randrange(-2**31, 2**31) for _ in range(n(20))]),
        f_set=maybe(rng, lambda: {rand_text(rng) for _ in range(n(6))}),
        f_map=maybe(rng, lambda: {rand_text(rng): rand_inner(rng) for _ in range(n(5))}),
        f_nested=maybe(rng, lambda: [[rng.randrange(-2**63, 2**63) for _ in range(n(4))]
                                     for _ in range(n(4))]),
        f_mapl=maybe(rng, lambda: {rng.randrange(-2**15, 2**15):
                                   [rng.random() < 0.5 for _ in range(n(5))]
                                   for _ in range(n(4))}),
        f_structs=maybe(rng, lambda: [rand_inner(rng) for _ in range(n(4))]),
        f_dset=maybe(rng, lambda: {rng.uniform(-1, 1) for _ in range(n(4))}),
        f_deep=maybe(rng, lambda: {bytes([i]) * i: {rng.randrange(-5, 5):
                                                    {rng.randrange(-128, 128)
                                                     for _ in range(n(3))}
                                                    for _ in range(n(3))}
                                   for i in range(n(3))}),
    )


def rand_message(seed, seqid_min=-2**31):
    rng = random.Random(seed)
    args = X.S.echo_args(arg=rand_all(rng), n=maybe(rng, lambda: rng.randrange(-9, 9)))
    mtype = rng.choice([TMessageType.CALL, TMessageType.ONEWAY])
    # thriftpy2's compact writer cannot write negative sequence ids.
    return "echo", mtype, rng.randrange(seqid_min, 2**31), args


def walk(cbin, data, env=None):
    res = run_c(cbin["kgwalk"], "walk", input=data, env=env)
    out = res.stdout.decode()
    assert res.returncode == 0, out + res.stderr.decode()
    dump, hexline = out.splitlines()
    return json.loads(dump), bytes.fromhex(hexline)


# ---- thriftpy2 -> C ----

@pytest.mark.parametrize("strict", [True, False], ids=["strict", "old"])
@pytest.mark.parametrize("seed", SEEDS)
def test_thriftpy2_message_decoded_and_reencoded_by_c(cbin, seed, strict):
    name, mtype, seqid, args = rand_message(seed)
    data = encode(name, mtype, seqid, args, strict=strict)
    dump, reenc = walk(cbin, data)
    assert dump == canon_message(name, mtype, seqid, args)
    # The C writer always writes strict headers: equal to thriftpy2's strict bytes.
    assert reenc == encode(name, mtype, seqid, args, strict=True)
    # And thriftpy2 reads the C bytes back to the same values.
    _, _, _, back = decode(reenc, X.S.echo_args())
    assert canon_struct(back) == canon_struct(args)


@pytest.mark.parametrize("seed", SEEDS[:10])
def test_every_prefix_needs_more_bytes(cbin, seed):
    data = encode(*rand_message(seed), strict=seed % 2 == 0)
    res = run_c(cbin["kgwalk"], "prefixes", input=data)
    assert res.returncode == 0, res.stdout.decode() + res.stderr.decode()
    assert res.stdout.decode().strip() == f"ok {len(data)}"


def test_unframed_and_framed_streams_of_thriftpy2_messages(cbin):
    a = encode(*rand_message(100))
    b = encode(*rand_message(101), strict=False)
    res = run_c(cbin["kgwalk"], "frame", "buffered", input=a + b)
    assert res.stdout.decode().split() == ["0", str(len(a))]
    res = run_c(cbin["kgwalk"], "frame", "buffered", input=b + a)
    assert res.stdout.decode().split() == ["0", str(len(b))]
    framed = struct.pack(">i", len(a)) + a + struct.pack(">i", len(b)) + b
    res = run_c(cbin["kgwalk"], "frame", "framed", input=framed)
    assert res.stdout.decode().split() == ["0", str(len(a) + 4)]
    res = run_c(cbin["kgwalk"], "frame", "framed", input=framed[:len(a) + 3])
    assert res.stdout.decode().split()[0] == "-11"  # -EAGAIN


def test_c_refuses_truncated_thriftpy2_message(cbin):
    data = encode(*rand_message(7))
    res = run_c(cbin["kgwalk"], "walk", input=data[:-1])
    assert res.returncode == 3
    assert res.stdout.decode().strip() == f"ERR {ENODATA}"


# ---- C -> thriftpy2 ----

def s8(v):
    return (v & 0xff) - 256 if v & 0x80 else v & 0xff


def wrap(v, bits):
    v &= (1 << bits) - 1
    return v - (1 << bits) if v >> (bits - 1) else v


def expected_all(seed):
    """What kgwalk.c gen() writes for @seed."""
    return X.All(
        f_bool=bool(seed & 1),
        f_byte=s8(seed * 37),
        f_i16=wrap(seed * 1000 + 12345, 16),
        f_i32=wrap(seed * 100003 + 0x80000000, 32),
        f_i64=wrap(seed * 1000000007 + 0x8000000000000000, 64),
        f_double=seed + 0.5,
        f_string=f"s{seed}",
        f_binary=bytes((i * 51) & 0xff for i in range(seed % 7)),
        f_inner=X.Inner(a=wrap(seed, 32), b="in"),
        f_list=[wrap(i * seed, 32) for i in range(seed % 5)],
        f_set=["x", "y"],  # thriftpy2 reads sets as lists, in wire order
        f_map={f"k{i}": X.Inner(a=i, b="v") for i in range(seed % 3)},
        f_nested=[[i, -i] for i in range(2)],
        f_mapl={i: [i % 2 == 0] * i for i in range(seed % 3)},
    )


@pytest.mark.parametrize("seed", [0, 1, 2, 5, 17, 1000, 65535, 4000000000])
def test_c_written_message_decoded_by_thriftpy2(cbin, seed):
    res = run_c(cbin["kgwalk"], "gen", seed)
    assert res.returncode == 0, res.stderr.decode()
    data = bytes.fromhex(res.stdout.decode().strip())
    name, mtype, seqid, args = decode(data, X.S.echo_args())
    assert (name, mtype, seqid) == ("echo", TMessageType.CALL, wrap(seed, 32))
    assert args.n == wrap(seed, 32)
    assert args.arg == expected_all(seed)
    # And the bytes are exactly what thriftpy2 writes for those values.
    assert data == encode("echo", TMessageType.CALL, wrap(seed, 32),
                          X.S.echo_args(arg=expected_all(seed), n=wrap(seed, 32)))


@pytest.mark.parametrize("extype,msg", [(1, "no such method 'zap'"), (6, ""), (7, None),
                                        (0, "\u00e9t\u00e9")])
def test_app_exception_written_by_c(cbin, extype, msg):
    args = ["appex", extype, -5] + ([msg] if msg is not None else [])
    res = run_c(cbin["kgwalk"], *args)
    data = bytes.fromhex(res.stdout.decode().strip())
    p = TBinaryProtocol(TMemoryBuffer(data))
    name, mtype, seqid = p.read_message_begin()
    exc = TApplicationException()
    p.read_struct(exc)
    assert (name, mtype, seqid) == ("echo", TMessageType.EXCEPTION, -5)
    assert exc.type == extype
    assert exc.message == msg
    assert data == encode("echo", TMessageType.EXCEPTION, -5,
                          TApplicationException(type=extype, message=msg))


@pytest.mark.parametrize("extype,msg", [(3, "wrong name"), (5, None), (10, "x" * 300)])
def test_app_exception_read_by_c(cbin, extype, msg):
    data = encode("echo", TMessageType.EXCEPTION, 1234,
                  TApplicationException(type=extype, message=msg))
    res = run_c(cbin["kgwalk"], "readappex", input=data)
    assert res.returncode == 0, res.stdout.decode()
    seqid, t, hexmsg = (res.stdout.decode().split() + [""])[:3]
    assert (int(seqid), int(t)) == (1234, extype)
    assert bytes.fromhex(hexmsg) == (msg or "").encode()


# ---- compact protocol, both ways ----

@pytest.mark.parametrize("seed", SEEDS)
def test_thriftpy2_compact_message_decoded_and_reencoded_by_c(cbin, seed):
    name, mtype, seqid, args = rand_message(seed, seqid_min=0)
    data = encode(name, mtype, seqid, args, proto="compact")
    dump, reenc = walk(cbin, data, env=COMPACT)
    assert dump == canon_message(name, mtype, seqid, args, compact=True)
    assert reenc == data
    _, _, _, back = decode(reenc, X.S.echo_args(), proto="compact")
    assert canon_struct(back) == canon_struct(args)


@pytest.mark.parametrize("seed", SEEDS[:10])
def test_compact_every_prefix_needs_more_bytes(cbin, seed):
    data = encode(*rand_message(seed, seqid_min=0), proto="compact")
    res = run_c(cbin["kgwalk"], "prefixes", input=data, env=COMPACT)
    assert res.returncode == 0, res.stdout.decode() + res.stderr.decode()
    assert res.stdout.decode().strip() == f"ok {len(data)}"


@pytest.mark.parametrize("seed", [0, 1, 2, 5, 17, 1000, 65535])
def test_c_written_compact_message_decoded_by_thriftpy2(cbin, seed):
    res = run_c(cbin["kgwalk"], "gen", seed, env=COMPACT)
    assert res.returncode == 0, res.stderr.decode()
    data = bytes.fromhex(res.stdout.decode().strip())
    name, mtype, seqid, args = decode(data, X.S.echo_args(), proto="compact")
    assert (name, mtype, seqid) == ("echo", TMessageType.CALL, seed)
    assert args.arg == expected_all(seed)
    assert data == encode("echo", TMessageType.CALL, seed,
                          X.S.echo_args(arg=expected_all(seed), n=seed), proto="compact")


def test_compact_app_exception_both_ways(cbin):
    res = run_c(cbin["kgwalk"], "appex", 4, 77, "bad seq", env=COMPACT)
    data = bytes.fromhex(res.stdout.decode().strip())
    p = TCompactProtocol(TMemoryBuffer(data))
    assert p.read_message_begin() == ("echo", TMessageType.EXCEPTION, 77)
    exc = TApplicationException()
    p.read_struct(exc)
    assert (exc.type, exc.message) == (4, "bad seq")
    data = encode("echo", TMessageType.EXCEPTION, 5,
                  TApplicationException(type=7, message="proto"), proto="compact")
    res = run_c(cbin["kgwalk"], "readappex", input=data, env=COMPACT)
    assert res.stdout.decode().split() == ["5", "7", b"proto".hex()]


def test_compact_streams(cbin):
    a = encode(*rand_message(200, seqid_min=0), proto="compact")
    b = encode(*rand_message(201, seqid_min=0), proto="compact")
    res = run_c(cbin["kgwalk"], "frame", "buffered", input=a + b, env=COMPACT)
    assert res.stdout.decode().split() == ["0", str(len(a))]
