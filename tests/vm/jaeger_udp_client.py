# SPDX-License-Identifier: GPL-2.0
"""A Jaeger-style client of the generated agent (tests/data/jaeger/agent.thrift) over UDP.

Like Jaeger's clients it encodes one `emitBatch` call per datagram, unframed, compact or
binary (thriftpy2 encodes, a plain socket sends).  The server runs the test handler
tests/codegen/handlers/agent_handler.c, which prints "agent: report ..." lines when it gets
a batch from process "kgen-report" and "agent: tcp batch ..." for batches that came over
TCP; `lines` is where those lines are read (the user-space server's stdout, or dmesg in a
VM).

Used by tests/codegen/test_agent_udp.py (user space) and, as a script in the guest, by
tests/vm/test_agent_udp_vm.py:

    jaeger_udp_client.py PORT PROTOCOL SCENARIO[,SCENARIO...] REPORT_BASE
                                                     (counts, malformed, flood)

prints one line "RESULT <scenario> <json>" per scenario with what it sent and saw.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sys
import threading
import time
from pathlib import Path

import thriftpy2
from thriftpy2.protocol.binary import TBinaryProtocol
from thriftpy2.protocol.compact import TCompactProtocol
from thriftpy2.protocol import TBinaryProtocolFactory, TCompactProtocolFactory
from thriftpy2.rpc import make_client
from thriftpy2.thrift import TMessageType
from thriftpy2.transport import TFramedTransportFactory
from thriftpy2.transport.memory import TMemoryBuffer

IDL = Path(__file__).resolve().parents[1] / "data" / "jaeger" / "agent.thrift"
agent = thriftpy2.load(str(IDL), module_name="agent_thrift", include_dirs=[str(IDL.parent)])
jaeger = agent.jaeger

PROTOCOLS = {"compact": TCompactProtocol, "binary": TBinaryProtocol}
FACTORIES = {"compact": TCompactProtocolFactory, "binary": TBinaryProtocolFactory}
MAX_FRAME = 16384  # the servers under test run with max_frame=16384 (oversized: beyond it)


def span(span_id: int, op: str = "op", tags: int = 1) -> object:
    return jaeger.Span(
        traceIdLow=span_id * 7, traceIdHigh=0, spanId=span_id, parentSpanId=0,
        operationName=f"{op}-{span_id}", flags=1, startTime=1_700_000_000_000_000 + span_id,
        duration=1000 + span_id,
        tags=[jaeger.Tag(key=f"k{i}", vType=jaeger.TagType.STRING, vStr="v" * 8)
              for i in range(tags)] + [jaeger.Tag(key="n", vType=jaeger.TagType.LONG, vLong=span_id)],
        logs=[jaeger.Log(timestamp=span_id, fields=[jaeger.Tag(key="event", vType=jaeger.TagType.BOOL,
                                                              vBool=True)])])


def batch(service: str, span_ids, **kw) -> object:
    return jaeger.Batch(
        process=jaeger.Process(serviceName=service,
                               tags=[jaeger.Tag(key="hostname", vType=jaeger.TagType.STRING,
                                                vStr="test")]),
        spans=[span(i, **kw) for i in span_ids])


def encode(b, proto: str, msg_type=TMessageType.ONEWAY, method="emitBatch", seqid=1) -> bytes:
    """One message as Jaeger clients send it: header, args, no frame."""
    buf = TMemoryBuffer()
    p = PROTOCOLS[proto](buf)
    p.write_message_begin(method, msg_type, seqid)
    agent.Agent.emitBatch_args(batch=b).write(p)
    p.write_message_end()
    return buf.getvalue()


def header_only(proto: str, method="emitBatch") -> bytes:
    buf = TMemoryBuffer()
    PROTOCOLS[proto](buf).write_message_begin(method, TMessageType.ONEWAY, 1)
    return buf.getvalue()


REPORT_RE = re.compile(r"agent: report (\d+) batches (\d+) spans (\d+) idsum (\d+)")
TCP_RE = re.compile(r"agent: tcp batch (\d+) spans (\d+)")


class Lines:
    """Lines printed by the handler, from a callable returning every line so far."""

    def __init__(self, source):
        self.source = source

    def find(self, regex, timeout: float):
        end = time.monotonic() + timeout
        while True:
            for line in self.source():
                m = regex.search(line)
                if m:
                    return m
            if time.monotonic() > end:
                return None
            time.sleep(0.02)

    def count(self, regex) -> int:
        return sum(1 for line in self.source() if regex.search(line))


class Kmsg:
    """The kernel log from now on, read from /dev/kmsg without blocking (no dmesg process
    per look: under software emulation that costs more than the test itself)."""

    def __init__(self):
        self.fd = os.open("/dev/kmsg", os.O_RDONLY | os.O_NONBLOCK)
        os.lseek(self.fd, 0, os.SEEK_END)
        self.lines: list[str] = []

    def __call__(self):
        while True:
            try:
                rec = os.read(self.fd, 8192)
            except BlockingIOError:
                break
            except OSError:      # EPIPE: records overwritten before we read them; go on
                continue
            if not rec:
                break
            # "<prio>,<seq>,<usec>,<flags>;<text>\n"
            self.lines.append(rec.decode(errors="replace").split(";", 1)[-1].rstrip("\n"))
        return self.lines


class Client:
    def __init__(self, port: int, proto: str, lines: Lines, report_base: int, host="127.0.0.1"):
        self.addr = (host, port)
        self.proto = proto
        self.lines = lines
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET,
                                  socket.SOCK_DGRAM)
        self.sent = 0          # datagrams sent
        self.reports = 0       # report datagrams sent
        self.next_report = report_base

    def send(self, data: bytes):
        self.sock.sendto(data, self.addr)
        self.sent += 1

    def report(self, timeout=3.0, tries=5):
        """Counts as the handler sees them once every earlier datagram was served."""
        for _ in range(tries):
            n = self.next_report
            self.next_report += 1
            self.send(encode(batch("kgen-report", [n], tags=0), self.proto))
            self.reports += 1
            m = self.lines.find(re.compile(rf"agent: report {n} batches (\d+) spans (\d+) idsum (\d+)"),
                                timeout)
            if m:
                return {"batches": int(m.group(1)), "spans": int(m.group(2)), "idsum": int(m.group(3))}
        raise TimeoutError(f"no report after {tries} tries")


def scenario_counts(c: Client, batches=60, chunk=10):
    """Batches of 1-7 spans, ids unique; after every chunk a report: exact counts."""
    expect = {"batches": 0, "spans": 0, "idsum": 0}
    reports = []
    next_id = 1
    for i in range(batches):
        n = 1 + i % 7
        ids = list(range(next_id, next_id + n))
        next_id += n
        c.send(encode(batch(f"svc-{i % 3}", ids), c.proto, seqid=i))
        expect["batches"] += 1
        expect["spans"] += n
        expect["idsum"] += sum(ids)
        if (i + 1) % chunk == 0:
            reports.append((dict(expect), c.report()))
    return {"expect": expect, "reports": reports, "sent": c.sent}


def malformed(proto: str) -> dict[str, bytes]:
    other = "binary" if proto == "compact" else "compact"
    good = encode(batch("svc", [1, 2, 3]), proto)
    big = encode(batch("svc-big", range(1, 200), tags=3), proto)
    assert len(big) > MAX_FRAME, len(big)
    return {
        "empty": b"",
        "garbage": bytes(range(256)) * 2,
        "truncated": good[: len(good) // 2],
        "header_only": header_only(proto),
        "bad_args": header_only(proto) + b"\xff" * 40,
        "reply_type": encode(batch("svc", [1]), proto, msg_type=TMessageType.REPLY),
        "unknown_method": encode(batch("svc", [1]), proto, method="noSuchMethod"),
        "other_protocol": encode(batch("svc", [1]), other),
        "oversized": big,
    }


def scenario_malformed(c: Client):
    """Every kind of bad datagram, each followed by a report: nothing counted, all dropped."""
    sent, reports = c.sent, c.reports
    before = c.report()
    seen = {}
    for name, data in malformed(c.proto).items():
        c.send(data)
        seen[name] = c.report()
    return {"before": before, "after": seen, "kinds": len(seen), "sent": c.sent - sent,
            "reports": c.reports - reports}


def scenario_flood(c: Client, port: int, seconds=4.0, tcp_batches=10, tcp_timeout=15.0,
                   max_flood=None):
    """UDP datagrams as fast as one sender can while a TCP client sends batches (listen=both);
    at most max_flood datagrams (a bound on the time a slow VM spends on it)."""
    stop = threading.Event()
    flood = {"sent": 0, "errors": 0}

    def flooder():
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        data = [encode(batch("flood", [1_000_000 + i], tags=0), c.proto) for i in range(64)]
        i = 0
        while not stop.is_set() and (max_flood is None or flood["sent"] < max_flood):
            try:
                s.sendto(data[i % 64], c.addr)
                flood["sent"] += 1
            except OSError:
                flood["errors"] += 1
            i += 1
        s.close()

    t = threading.Thread(target=flooder, daemon=True)
    t.start()
    time.sleep(0.5)  # the flood is on before the TCP client starts
    client = make_client(agent.Agent, "127.0.0.1", port, proto_factory=FACTORIES[c.proto](),
                         trans_factory=TFramedTransportFactory(), timeout=int(tcp_timeout * 1000))
    latencies = []
    tcp_spans = 0
    tcp_idsum = 0
    start = time.monotonic()
    for k in range(tcp_batches):
        first = 500_000 + 10 * k
        ids = [first, first + 1]
        t0 = time.monotonic()
        client.emitBatch(batch("tcp", ids))
        m = c.lines.find(re.compile(rf"agent: tcp batch {first} spans 2\b"), tcp_timeout)
        if not m:
            break
        latencies.append(time.monotonic() - t0)
        tcp_spans += 2
        tcp_idsum += sum(ids)
    while time.monotonic() - start < seconds:
        time.sleep(0.1)
    stop.set()
    t.join()
    client.close()
    time.sleep(0.5)
    final = c.report()
    return {"flood_sent": flood["sent"], "flood_errors": flood["errors"], "tcp_seen": len(latencies),
            "tcp_batches": tcp_batches, "tcp_max_latency": max(latencies, default=None),
            "tcp_spans": tcp_spans, "tcp_idsum": tcp_idsum, "final": final,
            "reports": c.reports, "sent": c.sent}


def main(argv):
    """PORT PROTOCOL SCENARIO[,SCENARIO...] REPORT_BASE: "RESULT <scenario> <json>" each."""
    port, proto, scenarios = int(argv[1]), argv[2], argv[3].split(",")
    c = Client(port, proto, Lines(Kmsg()), report_base=int(argv[4]) if len(argv) > 4 else 1)
    for scenario in scenarios:
        if scenario == "counts":
            res = scenario_counts(c)
        elif scenario == "malformed":
            res = scenario_malformed(c)
        elif scenario == "flood":
            res = scenario_flood(c, port, seconds=2.0, tcp_batches=3, max_flood=20000)
        else:
            raise SystemExit(f"unknown scenario {scenario}")
        print(f"RESULT {scenario} " + json.dumps(res), flush=True)


if __name__ == "__main__":
    main(sys.argv)
