"""Helpers for the generator's tests: generate a module directory, build it, run it."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

from thrift_kgen.codegen import Options, generate
from thrift_kgen.frontend.diagnostics import Diagnostics
from thrift_kgen.frontend.resolver import load_program
from thrift_kgen.testing.userbuild import TEST_OPT, make_vars, prime_runtime

REPO = Path(__file__).resolve().parents[2]
HANDLERS = Path(__file__).resolve().parent / "handlers"


def load(path, include_dirs=()):
    diags = Diagnostics()
    program = load_program(str(path), list(include_dirs), diags)
    assert program is not None, diags.items
    return program


def gen(idl, out: Path, handler: str | Path | None = None, **opts) -> list[Path]:
    """Generate `idl` into `out`; with `handler` (a file name in tests/codegen/handlers/, or a
    path, e.g. an example's handler), put that file in first (its name must be the one the
    generator gives the handler file: <prefix>_handler.c)."""
    out.mkdir(parents=True, exist_ok=True)
    if handler:
        shutil.copyfile(HANDLERS / handler, out / Path(handler).name)
    return generate(load(idl, opts.pop("include_dirs", ())), out, Options(**opts))


def make(out: Path, *targets: str, env=None, timeout=600) -> subprocess.CompletedProcess:
    """make -C out targets...; `user` builds at OPT=-O1 unless an OPT=... is given, with the
    runtime library from the session's cache (thrift_kgen.testing.userbuild)."""
    env = {**os.environ, **(env or {})}
    targets = list(targets)
    if "user" in targets:
        if not any(t.startswith("OPT=") for t in targets):
            targets.append(f"OPT={TEST_OPT}")
        prime_runtime(out, make_vars(targets, env), env)
    return subprocess.run(["make", "-C", str(out), *targets], capture_output=True, text=True,
                          env=env, timeout=timeout)


class UserServer:
    """A generated `<mod>_user` running on a free port."""

    def __init__(self, binary: Path, *args: str):
        self.proc = subprocess.Popen([str(binary), "--port", "0", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.search(r":(\d+)\s*$", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"server did not start: {line!r} {self.proc.stderr.read()}")
        self.port = int(m.group(1))

    def stop(self, timeout=10) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.stop()


def wait_port(port: int, timeout=5.0):
    end = time.time() + timeout
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(port)
