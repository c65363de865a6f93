# SPDX-License-Identifier: GPL-2.0
"""Host side of the example tests: copy an example, generate and build it, run its
user-space server, and describe how to load its kernel module in the VM."""

from __future__ import annotations

import dataclasses
import os
import re
import shutil
import signal
import subprocess
import threading
from pathlib import Path

from thrift_kgen.testing.userbuild import TEST_OPT, make_vars, prime_runtime

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"
KGEN = REPO / ".venv" / "bin" / "thrift-kgen"


@dataclasses.dataclass
class Example:
    name: str
    # (transport, extra module parameters) for each kernel run; the user-space server
    # runs with each transport once.
    runs: tuple = (("framed", "wq_mode=1"), ("buffered", "wq_mode=0"))
    module_params: str = ""            # for every kernel run
    user_env: dict = dataclasses.field(default_factory=dict)
    # regex on the user server's output -> extra key (e.g. the raw echo's port)
    user_extra: dict = dataclasses.field(default_factory=dict)
    kernel_extra: dict = dataclasses.field(default_factory=dict)
    vm_timeout: float = 300


SPECS = {
    "forwarder": Example("forwarder"),
    "echo": Example("echo", module_params="raw_port=9091",
                    user_env={"ECHO_RAW_PORT": "0"},
                    user_extra={"raw_port": r"raw echo on \S+:(\d+)"},
                    kernel_extra={"raw_port": 9091}),
    "calculator": Example("calculator"),
    "thrifttest": Example("thrifttest"),
}


def copy_example(name: str, dest: Path) -> Path:
    """Copy the committed files of examples/<name> (no build products) to dest/<name>."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(EXAMPLES / "example.mk", dest / "example.mk")
    src = EXAMPLES / name
    out = dest / name
    if out.exists():
        shutil.rmtree(out)
    out.mkdir()
    tracked = subprocess.run(["git", "ls-files", "--", "."], cwd=src, capture_output=True,
                             text=True).stdout.split()
    names = set(tracked) | {p.name for p in src.glob("*_handler.c")} | {"GNUmakefile"}
    for n in names:
        if (src / n).is_file():
            (out / n).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src / n, out / n)
    return out


def make(d: Path, *targets: str, timeout: float = 900, **vars: str) -> None:
    if "user" in targets:       # -O1 and the session's runtime library: see codegen_util.make
        vars.setdefault("OPT", TEST_OPT)
    cmd = ["make", "-C", str(d), f"KGEN={KGEN}", f"IDL_DIR={REPO / 'idl'}"] + [f"{k}={v}" for k, v in vars.items()] + list(targets)
    env = dict(os.environ, LC_ALL="C")
    env.pop("MAKEFLAGS", None)
    if "user" in targets:
        prime_runtime(d, make_vars(cmd[3:], env), env)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)
    if r.returncode:
        raise AssertionError(f"{' '.join(cmd)} exited {r.returncode}\n{r.stdout[-3000:]}\n{r.stderr[-5000:]}")


def generate(name: str, dest: Path) -> Path:
    """examples/<name> copied to dest and generated (make gen), IDLs from the repository."""
    d = copy_example(name, dest)
    make(d, "gen")
    return d


class UserServer:
    """<name>_user on free ports; reads the listening line(s) from its stdout."""

    def __init__(self, binary: Path, spec: Example, transport: str, args=()):
        env = dict(os.environ, **spec.user_env)
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        self.proc = subprocess.Popen([str(binary), "--port", "0", "--transport", transport, *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                     env=env)
        self.extra = {}
        self.port = None
        lines = []
        while self.port is None:
            line = self.proc.stdout.readline()
            if not line:
                self.proc.kill()
                raise RuntimeError(f"{binary} did not start: {lines} {self.proc.stderr.read()}")
            lines.append(line)
            for key, rx in spec.user_extra.items():
                m = re.search(rx, line)
                if m:
                    self.extra[key] = int(m.group(1))
            m = re.match(r"serving \S+ on \S+:(\d+)\s*$", line)
            if m:
                self.port = int(m.group(1))
        self.lines = lines             # stdout up to the listening line
        missing = set(spec.user_extra) - set(self.extra)
        if missing:
            self.proc.kill()
            raise RuntimeError(f"{binary}: no {missing} in {lines}")
        self.stderr: list[str] = []
        self._t = threading.Thread(target=self._drain, daemon=True)
        self._t.start()

    def _drain(self):
        for line in self.proc.stderr:
            self.stderr.append(line)

    def stop(self, timeout: float = 20) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise
        self._t.join(5)
        return rc
