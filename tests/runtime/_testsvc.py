"""Helpers for the user-space test-service tests: build, run, talk Thrift bytes.

The test services (tests/testsvc) are built with ASan + UBSan into a
build directory of their own (so parallel builds by other tests do not
race), run on 127.0.0.1 with port 0, and stopped with SIGTERM; every test
checks the exit status and that stderr has no sanitizer report.
"""

import fcntl
import os
import re
import signal
import socket
import struct
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TESTSVC = REPO / "tests" / "testsvc"
BUILD = TESTSVC / "build" / "testsvc-pytest"
BINARY = BUILD / "user-san" / "kgen-testsvc"
CLIENT = BUILD / "user-san" / "kgen-testclient"

SAN_ENV = {
    "ASAN_OPTIONS": "detect_leaks=1:abort_on_error=0:exitcode=66:strict_string_checks=1",
    "UBSAN_OPTIONS": "halt_on_error=1:print_stacktrace=1:exitcode=67",
}
SAN_PATTERN = re.compile(r"AddressSanitizer|LeakSanitizer|runtime error:|UndefinedBehaviorSanitizer|WARNING at")

T_CALL, T_REPLY, T_EXCEPTION, T_ONEWAY = 1, 2, 3, 4


def build() -> Path:
    """Build kgen-testsvc (SAN=1, -Werror) once; a file lock serialises xdist workers."""
    BUILD.mkdir(parents=True, exist_ok=True)
    with open(BUILD / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        res = subprocess.run(
            ["make", "-s", "-C", str(TESTSVC), "SAN=1", f"BUILD={BUILD}", "-j4"],
            capture_output=True, text=True, timeout=600)
        if res.returncode != 0:
            raise RuntimeError(f"build failed:\n{res.stdout}\n{res.stderr}")
    return BINARY


class Server:
    """A running kgen-testsvc; use as a context manager."""

    def __init__(self, service, *args, addr="127.0.0.1"):
        self.service = service
        self.args = list(args)
        self.addr = addr
        self.proc = None
        self.port = None
        self.stderr = ""
        self.returncode = None

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.stop()
        return False

    def start(self):
        env = dict(os.environ, **SAN_ENV)
        self._errfile = open(BUILD / f"stderr-{os.getpid()}-{id(self)}.txt", "w+")
        self.proc = subprocess.Popen(
            [str(BINARY), "--service", self.service, "--addr", self.addr, "--port", "0", *self.args],
            stdout=subprocess.PIPE, stderr=self._errfile, text=True, env=env)
        line = self.proc.stdout.readline()
        m = re.match(r"listening (\d+)", line)
        if not m:
            self.proc.kill()
            self.proc.wait(10)
            self._errfile.seek(0)
            raise RuntimeError(f"server did not start: {line!r}\n{self._errfile.read()}")
        self.port = int(m.group(1))

    def alive(self):
        return self.proc.poll() is None

    def stop(self, timeout=20):
        """SIGTERM, wait, collect stderr. Returns (returncode, stderr)."""
        if self.returncode is None:
            if self.proc.poll() is None:
                self.proc.send_signal(signal.SIGTERM)
            try:
                self.returncode = self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.returncode = self.proc.wait(10)
            self._errfile.seek(0)
            self.stderr = self._errfile.read()
            self._errfile.close()
            os.unlink(self._errfile.name)
            self.proc.stdout.close()
        return self.returncode, self.stderr

    def stats(self):
        m = re.search(r"stats accepted (\d+) refused (\d+) closed (\d+) messages (\d+) bad (\d+) "
                      r"appex (\d+) in (\d+) out (\d+) backpressure (\d+)((?: \w+ \d+)*)", self.stderr)
        assert m, self.stderr
        keys = "accepted refused closed messages bad appex bytes_in bytes_out backpressure".split()
        st = dict(zip(keys, map(int, m.groups()[:9])))
        rest = m.group(10).split()
        st.update((k, int(v)) for k, v in zip(rest[::2], rest[1::2]))
        return st

    def counters(self):
        """Every counter, from the "name value" lines printed at exit (kg_server_stats_print())."""
        got = {k: int(v) for k, v in re.findall(r"^([a-z_]+) (\d+)$", self.stderr, re.M)}
        assert "closed" in got, self.stderr
        return got

    def assert_clean(self):
        """Stopped by SIGTERM with exit 0 and no sanitizer report (leaks included);
        every byte of the memory budget given back, and never more charged than it."""
        code, err = self.stop()
        assert not SAN_PATTERN.search(err), err
        assert code == 0, f"exit {code}\n{err}"
        st = self.stats()
        assert st["mem_in_use"] == 0, st
        assert 0 < st["mem_peak"] <= st["mem_budget"] or st["accepted"] == 0, st
        return st

    def connect(self, timeout=10):
        s = socket.create_connection((self.addr, self.port), timeout=timeout)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return s


# ---- Thrift binary protocol, by hand (what the wire must look like) ----

def message(name, mtype, seqid, body):
    """A binary-protocol message: strict header, then the argument struct bytes."""
    n = name.encode()
    return struct.pack(">iI", -0x7FFF0000 | mtype, len(n)) + n + struct.pack(">i", seqid) + body


def field_i32(fid, v):
    return struct.pack(">bhi", 8, fid, v)


def field_string(fid, s):
    return struct.pack(">bhI", 11, fid, len(s)) + s


STOP = b"\x00"


def framed(msg):
    return struct.pack(">I", len(msg)) + msg


def recv_exact(sock, n):
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(min(n - len(buf), 1 << 20))
        if not chunk:
            raise EOFError(f"closed after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def recv_frame(sock):
    (n,) = struct.unpack(">I", recv_exact(sock, 4))
    return recv_exact(sock, n)


def parse_header(msg):
    """(name, type, seqid, offset of the body)."""
    ver, nlen = struct.unpack_from(">iI", msg, 0)
    name = msg[8:8 + nlen].decode()
    (seqid,) = struct.unpack_from(">i", msg, 8 + nlen)
    return name, ver & 0xFF, seqid, 12 + nlen


def closed_by_peer(sock, timeout=10):
    """True once the server closed the connection (EOF or reset), reading what is left."""
    sock.settimeout(timeout)
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sock.recv(65536):
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return False


# ---- hostile load: a good client timed while others misbehave ----

class GoodClient:
    """A well-behaved client: one connection, one framed echo call after another, each
    round trip timed. Runs in a thread between start() and stop(); stop() returns the
    latencies (seconds) and raises what the thread hit, e.g. a wrong answer."""

    def __init__(self, connect, payload=b"good", pause=0.005):
        import threading
        self._connect = connect
        self._payload = payload
        self._pause = pause
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.latencies = []
        self.error = None

    def _run(self):
        try:
            with self._connect() as s:
                seq = 0
                while not self._stop.is_set():
                    seq += 1
                    m = framed(message("echo", T_CALL, seq, field_i32(1, seq)
                                       + field_string(2, self._payload) + STOP))
                    t0 = time.monotonic()
                    s.sendall(m)
                    got = recv_exact(s, len(m))
                    self.latencies.append(time.monotonic() - t0)
                    if got != m:
                        raise AssertionError(f"wrong answer to call {seq}")
                    time.sleep(self._pause)
        except BaseException as e:  # noqa: BLE001 - re-raised by stop()
            self.error = e

    def start(self):
        self._thread.start()
        deadline = time.monotonic() + 30
        while not self.latencies and self.error is None and time.monotonic() < deadline:
            time.sleep(0.01)
        return self

    def stop(self):
        self._stop.set()
        self._thread.join(60)
        if self.error is not None:
            raise self.error
        assert not self._thread.is_alive(), "good client hung"
        assert self.latencies, "good client never got an answer"
        return self.latencies


def latency_figures(latencies):
    """max, median and 99th percentile in milliseconds, rounded."""
    s = sorted(latencies)
    return {"calls": len(s), "max_ms": round(s[-1] * 1000, 1),
            "median_ms": round(s[len(s) // 2] * 1000, 2),
            "p99_ms": round(s[min(len(s) - 1, len(s) * 99 // 100)] * 1000, 1)}


def churn(addr, port, n, call=False):
    """n connect/close pairs, one after the other (each closed before the next opens).
    With call=True each connection first makes one framed echo call and checks the
    answer, so the server must have served it. Returns how many calls were answered."""
    answered = 0
    for i in range(n):
        s = socket.create_connection((addr, port), timeout=30)
        try:
            if call:
                m = framed(message("echo", T_CALL, i, field_i32(1, i) + STOP))
                s.sendall(m)
                try:
                    if recv_exact(s, len(m)) == m:
                        answered += 1
                except (EOFError, ConnectionResetError):
                    pass
        finally:
            s.close()
    return answered
