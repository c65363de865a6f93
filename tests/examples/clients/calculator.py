# SPDX-License-Identifier: GPL-2.0
"""Client driver of examples/calculator: Apache Thrift's tutorial Calculator
(idl/tutorial.thrift extends shared.SharedService from idl/shared.thrift)."""

from __future__ import annotations

import threading
from pathlib import Path

from .common import Target, load_idl

tu = load_idl("tutorial.thrift", "tutorial_thrift")
sh = tu.shared if hasattr(tu, "shared") else load_idl("shared.thrift", "shared_thrift")

S32_MIN, S32_MAX = -2**31, 2**31 - 1


def wrap32(v: int) -> int:
    return (v + 2**31) % 2**32 - 2**31


def check_tutorial_client(t: Target, workdir: Path):
    """What Apache's tutorial client does, in order."""
    c = t.client(tu.Calculator)
    try:
        assert c.ping() is None
        assert c.add(1, 1) == 2
        try:
            c.calculate(1, tu.Work(num1=1, num2=0, op=tu.Operation.DIVIDE))
            raise AssertionError("no InvalidOperation")
        except tu.InvalidOperation as e:
            assert e.whatOp == tu.Operation.DIVIDE and e.why == "Cannot divide by 0", e
        assert c.calculate(1, tu.Work(num1=15, num2=10, op=tu.Operation.SUBTRACT)) == 5
        log = c.getStruct(1)
        assert (log.key, log.value) == (1, "5"), log
        c.zip()
        assert c.add(2, 3) == 5      # the oneway zip() left the connection in sync
    finally:
        c.close()


def check_constants_and_types(t: Target, workdir: Path):
    assert tu.INT32CONSTANT == 9853
    assert tu.MAPCONSTANT == {"hello": "world", "goodnight": "moon"}
    assert tu.Work().num1 == 0
    c = t.client(tu.Calculator)
    try:
        # num2 and op unset (num1 defaults to 0): op 0 is not an operation.
        try:
            c.calculate(7, tu.Work())
            raise AssertionError("no InvalidOperation")
        except tu.InvalidOperation as e:
            assert e.why == "Invalid operation", e
        w = tu.Work(num1=6, num2=7, op=tu.Operation.MULTIPLY, comment="with a comment")
        assert c.calculate(8, w) == 42
    finally:
        c.close()


def check_arithmetic(t: Target, workdir: Path):
    ops = {tu.Operation.ADD: lambda a, b: a + b, tu.Operation.SUBTRACT: lambda a, b: a - b,
           tu.Operation.MULTIPLY: lambda a, b: a * b}
    c = t.client(tu.Calculator)
    try:
        vals = [0, 1, -1, 7, -13, 1000, S32_MAX, S32_MIN, 123456789]
        logid = 1000
        for a in vals:
            for b in vals:
                assert c.add(a, b) == wrap32(a + b)
                for op, f in ops.items():
                    logid += 1
                    assert c.calculate(logid, tu.Work(num1=a, num2=b, op=op)) == wrap32(f(a, b))
                if b:
                    logid += 1
                    if a == S32_MIN and b == -1:
                        try:
                            c.calculate(logid, tu.Work(num1=a, num2=b, op=tu.Operation.DIVIDE))
                            raise AssertionError("no InvalidOperation")
                        except tu.InvalidOperation as e:
                            assert e.why == "Integer overflow", e
                    else:
                        q = abs(a) // abs(b) * (1 if (a < 0) == (b < 0) else -1)   # C truncation
                        assert c.calculate(logid, tu.Work(num1=a, num2=b, op=tu.Operation.DIVIDE)) == q
        for bad in (0, 5, -1, 99):
            try:
                c.calculate(1, tu.Work(num1=1, num2=1, op=bad))
                raise AssertionError("no InvalidOperation")
            except tu.InvalidOperation as e:
                assert (e.whatOp, e.why) == (bad, "Invalid operation"), e
    finally:
        c.close()


def check_log_bounded_and_updated(t: Target, workdir: Path):
    """The log keeps the latest 128 logids; a logid is updated in place."""
    c = t.client(tu.Calculator)
    try:
        base = 500000
        for i in range(300):
            assert c.calculate(base + i, tu.Work(num1=i, num2=1, op=tu.Operation.ADD)) == i + 1
        for i in range(300 - 128, 300):
            s = c.getStruct(base + i)
            assert (s.key, s.value) == (base + i, str(i + 1)), (i, s)
        gone = c.getStruct(base)
        assert gone.key is None and gone.value is None, gone
        c.calculate(base + 299, tu.Work(num1=-5, num2=3, op=tu.Operation.MULTIPLY))
        assert c.getStruct(base + 299).value == "-15"
        assert c.getStruct(-123456).key is None
    finally:
        c.close()


def check_concurrent_connections(t: Target, workdir: Path):
    """8 connections calculate and read back their own logids at the same time."""
    errors = []

    def worker(i):
        try:
            c = t.client(tu.Calculator)
            try:
                for j in range(40):
                    logid = 900000 + i * 1000 + j % 10
                    v = c.calculate(logid, tu.Work(num1=i, num2=j, op=tu.Operation.ADD))
                    assert v == i + j
                    s = c.getStruct(logid)
                    assert s.key == logid and s.value.lstrip("-").isdigit(), s
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


def check_shared_service_client(t: Target, workdir: Path):
    """A client that only knows SharedService (the base) talks to the Calculator."""
    c = t.client(sh.SharedService)
    try:
        s = c.getStruct(1)
        assert s.key in (1, None)
    finally:
        c.close()


CHECKS = [check_tutorial_client, check_constants_and_types, check_arithmetic,
          check_log_bounded_and_updated, check_concurrent_connections,
          check_shared_service_client]
