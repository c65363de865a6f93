# SPDX-License-Identifier: GPL-2.0
"""What every example's client driver shares: the target server, thriftpy2 clients
with a chosen transport and strictness, a small Thrift binary-protocol parser (for
sinks), helpers to run this package's programs as processes.

Importable on the host and in the VM guest (which sees the host's files and the
repository's .venv): only the standard library and thriftpy2.
"""

from __future__ import annotations

import dataclasses
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import thriftpy2
from thriftpy2.protocol import TBinaryProtocolFactory
from thriftpy2.rpc import make_client
from thriftpy2.transport import TBufferedTransportFactory, TFramedTransportFactory

HERE = Path(__file__).resolve().parent
PKG_ROOT = HERE.parent                 # tests/examples: on sys.path for `import clients`
REPO = HERE.parents[2]
IDL = REPO / "idl"

TRANSPORTS = {"framed": TFramedTransportFactory, "buffered": TBufferedTransportFactory}


@dataclasses.dataclass
class Target:
    """A running example server: kernel module or user-space binary."""

    port: int
    transport: str = "framed"          # the server's transport: framed or buffered
    host: str = "127.0.0.1"
    extra: dict = dataclasses.field(default_factory=dict)   # e.g. raw_port for echo
    where: str = "user"                # "user" or "kernel"

    def client(self, service, *, strict_read: bool = True, strict_write: bool = True,
               timeout: int = 20000, transport: str | None = None):
        """A thriftpy2 client of `service` (binary protocol, the given strictness)."""
        return make_client(service, self.host, self.port,
                           proto_factory=TBinaryProtocolFactory(strict_read=strict_read,
                                                                strict_write=strict_write),
                           trans_factory=TRANSPORTS[transport or self.transport](),
                           timeout=timeout,
                           socket_family=socket.AF_INET6 if ":" in self.host else socket.AF_INET)


_loaded: dict[str, object] = {}


def load_idl(name: str, module_name: str):
    """thriftpy2 module for idl/<name> (cached; include paths: idl/)."""
    key = f"{name}:{module_name}"
    if key not in _loaded:
        _loaded[key] = thriftpy2.load(str(IDL / name), module_name=module_name,
                                      include_dirs=[str(IDL)])
    return _loaded[key]


def python_cmd(module: str, *args: str) -> list[str]:
    """Command line running `python -m clients.<module> args...` with this interpreter."""
    return [sys.executable, "-m", f"clients.{module}", *args]


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(PKG_ROOT) + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


def spawn(module: str, *args: str, **kw) -> subprocess.Popen:
    return subprocess.Popen(python_cmd(module, *args), env=child_env(), cwd=str(PKG_ROOT),
                            text=True, **kw)


def wait_for(cond, timeout: float, what: str, interval: float = 0.05):
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v:
            return v
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def recv_exactly(sock: socket.socket, n: int) -> bytes:
    buf = bytearray()
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError(f"connection closed after {len(buf)} of {n} bytes")
        buf += chunk
    return bytes(buf)


def server_alive(target: Target, service, ping) -> None:
    """Assert the server still answers a call on a fresh connection."""
    c = target.client(service)
    try:
        ping(c)
    finally:
        c.close()
