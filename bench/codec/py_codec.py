# SPDX-License-Identifier: GPL-2.0
"""bench/codec, thriftpy2's side: codec.thrift loaded by thriftpy2, the same values,
encoded and decoded with its binary protocol (the Cython TCyBinary, its fastest) and
its compact protocol (pure Python; thriftpy2 has no Cython compact).  Same JSON lines as
the C programs (thread CPU time, median of rounds); encodings go to
OUTDIR/thriftpy2-<proto>-<value>.bin.

    python py_codec.py OUTDIR [ROUNDS]      (ROUNDS 0: write the encodings, time nothing)
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import thriftpy2
from thriftpy2.protocol import TCompactProtocol, TCyBinaryProtocol
from thriftpy2.transport import TMemoryBuffer
from thriftpy2.transport.memory import TCyMemoryBuffer

HERE = Path(__file__).resolve().parent
MSG_PAYLOAD = "abcdefghijklmnopqrstuvwxyz012345"
BLOB_SIZE = 1 << 20
ROUND_NS = 20e6


def values(m) -> dict:
    def xtruct(s, b, i, l):
        return m.Xtruct(string_thing=s, byte_thing=b, i32_thing=i, i64_thing=l)
    blob = bytes((i * 7 + 3) & 0xFF for i in range(BLOB_SIZE))
    return {
        "msg": m.Msg(key=42, payload=MSG_PAYLOAD),
        "xtruct": xtruct("Zero", 1, -3, -5),
        "insanity": m.Insanity(userMap={m.Numberz.FIVE: 5, m.Numberz.EIGHT: 8},
                               xtructs=[xtruct("Goodbye4", 4, 4, 4), xtruct("Hello2", 2, 2, 2)]),
        "blob": m.Blob(data=blob),
    }


def time_op(fn, rounds: int) -> tuple[float, int]:
    n = 1
    while True:
        t0 = time.thread_time_ns()
        for _ in range(n):
            fn()
        el = time.thread_time_ns() - t0
        if el > ROUND_NS / 4 or n > 1 << 22:
            break
        n *= 2
    n = int(n * ROUND_NS / (el + 1)) + 1
    per = []
    for _ in range(rounds):
        t0 = time.thread_time_ns()
        for _ in range(n):
            fn()
        per.append((time.thread_time_ns() - t0) / n)
    per.sort()
    return per[len(per) // 2], n


def main() -> int:
    out = Path(sys.argv[1])
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    m = thriftpy2.load(str(HERE / "codec.thrift"), module_name="codec_thrift")
    vals = values(m)
    # Its fastest: the Cython binary protocol and buffer; compact exists in Python only.
    impls = [("thriftpy2", "binary", TCyBinaryProtocol, TCyMemoryBuffer),
             ("thriftpy2", "compact", TCompactProtocol, TMemoryBuffer)]
    for impl, proto, Proto, Buf in impls:
        for name, v in vals.items():
            def encode():
                b = Buf()
                v.write(Proto(b))
                return b.getvalue()
            enc = encode()
            (out / f"{impl}-{proto}-{name}.bin").write_bytes(enc)

            def decode():
                o = type(v)()
                o.read(Proto(Buf(enc)))
                return o
            if decode() != v:
                print(f"{impl} {proto} {name}: decoded value differs", file=sys.stderr)
                return 1

            def roundtrip():
                b = Buf()
                v.write(Proto(b))
                o = type(v)()
                o.read(Proto(Buf(b.getvalue())))
            for op, fn in (("encode", encode), ("decode", decode), ("roundtrip", roundtrip)):
                if not rounds:
                    break
                ns, n = time_op(fn, rounds)
                print(json.dumps({"impl": impl, "proto": proto, "value": name, "op": op,
                                  "ns": round(ns, 2), "iters": n}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
