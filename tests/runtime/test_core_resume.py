# SPDX-License-Identifier: GPL-2.0
"""The resumable unframed skip-parse (kg_frame_resume) against its
specification, the one-shot kg_frame_next(), on messages thriftpy2 encodes
(binary strict and old-style, compact) and on their truncations, mutations
and lowered limits, as hypothesis draws them. kgwalk's "resume" mode feeds
the bytes in 1-byte pieces, in every two pieces and in random cuttings, and
checks every call's verdict (and total length) against kg_frame_next() on
the same prefix (tests/runtime/c/kgwalk.c)."""
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from _kgcore import run_c
from test_core_cross import COMPACT, encode, rand_message

ENCODINGS = ["strict", "old", "compact"]


def thrift_bytes(seed, encoding):
    msg = rand_message(seed, seqid_min=0 if encoding == "compact" else -2**31)
    if encoding == "compact":
        return encode(*msg, proto="compact")
    return encode(*msg, strict=encoding == "strict")


def resume(cbin, data, encoding, seed, limits=()):
    env = COMPACT if encoding == "compact" else None
    res = run_c(cbin["kgwalk"], "resume", seed, *limits, input=data, env=env)
    out = res.stdout.decode()
    assert res.returncode == 0, out + res.stderr.decode()
    m = re.fullmatch(r"ok (-?\d+) (\d+)\n", out)
    assert m, out
    return int(m.group(1)), int(m.group(2))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), encoding=st.sampled_from(ENCODINGS))
def test_whole_thriftpy2_messages(cbin, seed, encoding):
    data = thrift_bytes(seed, encoding)
    # Whole: found, at its length, however it is cut up.
    assert resume(cbin, data, encoding, seed) == (0, len(data))
    # With the next message behind it: still this one's length.
    assert resume(cbin, data + data[:7], encoding, seed) == (0, len(data))


MUTATIONS = st.one_of(
    st.tuples(st.just("cut"), st.floats(0, 1)),
    st.tuples(st.just("set"), st.floats(0, 1), st.integers(0, 255)),
    st.tuples(st.just("insert"), st.floats(0, 1), st.binary(min_size=1, max_size=8)),
    st.tuples(st.just("append"), st.binary(min_size=1, max_size=64)),
)


def mutate(data, muts):
    data = bytearray(data)
    for m in muts:
        if m[0] == "cut":
            del data[int(m[1] * len(data)):]
        elif m[0] == "set" and data:
            data[min(int(m[1] * len(data)), len(data) - 1)] = m[2]
        elif m[0] == "insert":
            i = int(m[1] * len(data))
            data[i:i] = m[2]
        elif m[0] == "append":
            data += m[1]
    return bytes(data)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32), encoding=st.sampled_from(ENCODINGS),
       muts=st.lists(MUTATIONS, min_size=1, max_size=3),
       limits=st.one_of(st.just(()), st.tuples(st.integers(1, 1200), st.integers(0, 40),
                                               st.integers(0, 25), st.integers(0, 8))))
def test_mutated_thriftpy2_messages_and_low_limits(cbin, seed, encoding, muts, limits):
    data = mutate(thrift_bytes(seed, encoding), muts)
    verdict, _ = resume(cbin, data, encoding, seed, limits)
    # EAGAIN, EBADMSG, EMSGSIZE or whole: kgwalk checked it is kg_frame_next()'s.
    assert verdict in (0, -11, -74, -90)
