# SPDX-License-Identifier: GPL-2.0
"""A small Thrift binary-protocol parser (standard library only: sinks start fast).

split_messages(buf, framed) finds the whole messages at the start of a buffer, framed
or unframed (buffered), with strict or non-strict headers, and decodes their argument
structs to {field id: value}.
"""

from __future__ import annotations

import struct

class Incomplete(Exception):
    """More bytes are needed."""


T_STOP, T_BOOL, T_BYTE, T_DOUBLE, T_I16, T_I32, T_I64, T_STRING, T_STRUCT, T_MAP, T_SET, \
    T_LIST, T_UUID = 0, 2, 3, 4, 6, 8, 10, 11, 12, 13, 14, 15, 16
_FIXED = {T_BOOL: 1, T_BYTE: 1, T_DOUBLE: 8, T_I16: 2, T_I32: 4, T_I64: 8, T_UUID: 16}
MAX_DEPTH = 64


class Reader:
    def __init__(self, buf: bytes | bytearray | memoryview, pos: int = 0, end: int | None = None):
        self.buf = buf
        self.pos = pos
        self.end = len(buf) if end is None else end

    def take(self, n: int) -> bytes:
        if n < 0:
            raise ValueError("negative length")
        if self.pos + n > self.end:
            raise Incomplete()
        b = bytes(self.buf[self.pos:self.pos + n])
        self.pos += n
        return b

    def i8(self) -> int:
        return struct.unpack("!b", self.take(1))[0]

    def i16(self) -> int:
        return struct.unpack("!h", self.take(2))[0]

    def i32(self) -> int:
        return struct.unpack("!i", self.take(4))[0]

    def binary(self) -> bytes:
        return self.take(self.i32())

    def value(self, ttype: int, depth: int = 0):
        """Decode one value: ints, bytes, dict for structs {id: value}, lists, dicts."""
        if depth > MAX_DEPTH:
            raise ValueError("too deep")
        if ttype in _FIXED:
            raw = self.take(_FIXED[ttype])
            if ttype == T_I32:
                return struct.unpack("!i", raw)[0]
            if ttype == T_I64:
                return struct.unpack("!q", raw)[0]
            if ttype == T_I16:
                return struct.unpack("!h", raw)[0]
            if ttype in (T_BOOL, T_BYTE):
                return struct.unpack("!b", raw)[0]
            return raw
        if ttype == T_STRING:
            return self.binary()
        if ttype == T_STRUCT:
            fields = {}
            while True:
                ft = self.i8()
                if ft == T_STOP:
                    return fields
                fid = self.i16()
                fields[fid] = self.value(ft, depth + 1)
        if ttype in (T_LIST, T_SET):
            et, n = self.i8(), self.i32()
            if n < 0:
                raise ValueError("negative size")
            return [self.value(et, depth + 1) for _ in range(n)]
        if ttype == T_MAP:
            kt, vt, n = self.i8(), self.i8(), self.i32()
            if n < 0:
                raise ValueError("negative size")
            return [(self.value(kt, depth + 1), self.value(vt, depth + 1)) for _ in range(n)]
        raise ValueError(f"bad type {ttype}")

    def message(self):
        """(name, type, seqid, args struct as {id: value}); strict or non-strict header."""
        first = self.i32()
        if first < 0:
            if (first & 0xffff0000) != 0x80010000:
                raise ValueError(f"bad version {first & 0xffffffff:#x}")
            mtype = first & 0xff
            name = self.binary()
        else:
            name = self.take(first)
            mtype = self.i8()
        seqid = self.i32()
        args = self.value(T_STRUCT)
        return name.decode("utf-8", "replace"), mtype, seqid, args


def split_messages(buf: bytearray, framed: bool):
    """Parse the whole messages at the start of buf; returns ([(msg, nbytes)], consumed)."""
    out = []
    pos = 0
    while True:
        try:
            if framed:
                if len(buf) - pos < 4:
                    break
                (n,) = struct.unpack_from("!i", buf, pos)
                if n < 0 or n > 64 << 20:
                    raise ValueError(f"bad frame size {n}")
                if len(buf) - pos - 4 < n:
                    break
                r = Reader(buf, pos + 4, pos + 4 + n)
                msg = r.message()
                if r.pos != r.end:
                    raise ValueError("trailing bytes in frame")
                out.append((msg, 4 + n))
                pos += 4 + n
            else:
                r = Reader(buf, pos)
                msg = r.message()
                out.append((msg, r.pos - pos))
                pos = r.pos
        except Incomplete:
            break
    return out, pos
