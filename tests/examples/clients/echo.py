# SPDX-License-Identifier: GPL-2.0
"""Client driver of examples/echo: the Thrift Echo service (target.port) and the
paper's raw byte echo (target.extra["raw_port"])."""

from __future__ import annotations

import os
import socket
import struct
import threading
from pathlib import Path

from thriftpy2.thrift import TApplicationException

from .common import Target, load_idl, recv_exactly

ec = load_idl("echo.thrift", "echo_thrift")


def check_echo_binary_and_string(t: Target, workdir: Path):
    for strict in (True, False):
        c = t.client(ec.Echo, strict_read=strict, strict_write=strict)
        try:
            for data in (b"", b"x", bytes(range(256)), os.urandom(4096), os.urandom(300_000)):
                assert c.echo(data) == data
            for s in ("", "hello", "h\u00e9llo w\u00f6rld \u2603", "z" * 10000):
                assert c.echo_string(s) == s
            for values in ([], [0], [1, -1, 2**31 - 1, -2**31], list(range(5000))):
                assert c.echo_list(values) == values
        finally:
            c.close()


def check_oneway_ping_counted(t: Target, workdir: Path):
    c = t.client(ec.Echo)
    try:
        before = c.pings()
        for i in range(100):
            c.ping(i)
        assert c.pings() - before == 100     # served in order: the count is exact
    finally:
        c.close()


def check_too_big_for_arena(t: Target, workdir: Path):
    """A 2 MiB echo does not fit the default 1 MiB arena: an INTERNAL_ERROR reply, and
    the same connection still works."""
    c = t.client(ec.Echo)
    try:
        try:
            c.echo(b"y" * (2 << 20))
            raise AssertionError("no exception")
        except TApplicationException as e:
            assert e.type in (TApplicationException.INTERNAL_ERROR,
                              TApplicationException.PROTOCOL_ERROR), e
        assert c.echo(b"still here") == b"still here"
    finally:
        c.close()


def check_parallel_clients(t: Target, workdir: Path):
    errors = []

    def worker(i):
        try:
            c = t.client(ec.Echo)
            try:
                for j in range(50):
                    d = f"{i}:{j}:".encode() * (j + 1)
                    assert c.echo(d) == d
            finally:
                c.close()
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    ts = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for th in ts:
        th.start()
    for th in ts:
        th.join(120)
    assert not errors, errors[:3]


def raw_echo(t: Target, bufsize: int, data: bytes) -> bytes:
    s = socket.create_connection((t.host, t.extra["raw_port"]), timeout=30)
    try:
        s.sendall(struct.pack("!I", bufsize))
        got = bytearray()
        view = memoryview(data)
        for off in range(0, len(data), bufsize):
            s.sendall(view[off:off + bufsize])
            got += recv_exactly(s, len(view[off:off + bufsize]))
        return bytes(got)
    finally:
        s.close()


def check_raw_echo_paper(t: Target, workdir: Path):
    """The paper's client: buffer size first, then buffers echoed back, for sizes
    32 .. 16384 bytes as in table 3.2."""
    for size in (32, 64, 128, 1024, 16384):
        data = os.urandom(size * 8)
        assert raw_echo(t, size, data) == data, size


def check_raw_echo_streaming(t: Target, workdir: Path):
    """More than the send buffer holds, sent at once while reading concurrently:
    backpressure, nothing lost or reordered; a header split over two sends."""
    data = os.urandom(4 << 20)
    s = socket.create_connection((t.host, t.extra["raw_port"]), timeout=60)
    try:
        s.sendall(b"\x00\x00")
        s.sendall(b"\x10\x00")
        got = bytearray()

        def reader():
            while len(got) < len(data):
                chunk = s.recv(1 << 16)
                if not chunk:
                    break
                got.extend(chunk)

        r = threading.Thread(target=reader)
        r.start()
        s.sendall(data)
        r.join(120)
        assert bytes(got) == data, f"{len(got)} of {len(data)} bytes back"
    finally:
        s.close()


def check_raw_echo_odd_clients(t: Target, workdir: Path):
    """Clients that close early, send only part of the header, or nothing."""
    for first in (b"", b"\x00", b"\x00\x00\x00", b"\xff\xff\xff\xff" + b"a" * 10):
        s = socket.create_connection((t.host, t.extra["raw_port"]), timeout=10)
        s.sendall(first)
        s.close()
    assert raw_echo(t, 16, b"after odd clients") == b"after odd clients"


CHECKS = [check_echo_binary_and_string, check_oneway_ping_counted, check_too_big_for_arena,
          check_parallel_clients, check_raw_echo_paper, check_raw_echo_streaming,
          check_raw_echo_odd_clients]
