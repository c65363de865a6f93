"""Test-session helpers for `make user` in generated module directories.

Every generated module carries the same copy of the runtime, and its `make user` first builds
that copy into runtime/build/user[-san]/libkgen.a (15 files, the larger part of a small
module's build).  prime_runtime() makes that build once per test session for each
(runtime content, SAN, OPT, CC): the first request builds it in place and stores the build
directory; later ones get a copy, with fresh timestamps, which the runtime's Makefile then
finds up to date.  The cache lives in a directory made by the first process that imports this
module (the pytest controller under xdist), inherited by the workers through the
environment, removed at exit.  KGEN_USER_RUNTIME_CACHE=off disables it.

TEST_OPT is the optimisation level the suite's user-space builds use unless a test asks for
the default -O2: -O1 compiles the generated code in about 0.6x the time of -O2 and keeps
-Wall -Wextra -Werror and the sanitizers (-Og is no option: its -Wmaybe-uninitialized has
false positives on the compact writers).
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Mapping, Sequence

TEST_OPT = "-O1"

_CACHE_ENV = "KGEN_USER_RUNTIME_CACHE"
if _CACHE_ENV not in os.environ:
    os.environ[_CACHE_ENV] = tempfile.mkdtemp(prefix="kgen-user-runtime-cache-")
    atexit.register(shutil.rmtree, os.environ[_CACHE_ENV], True)


def make_vars(args: Sequence[str], env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The make variables a command line (VAR=value words) and an environment set."""
    out = {k: v for k, v in (env or {}).items() if k in ("SAN", "OPT", "CC")}
    for a in args:
        if "=" in a and not a.startswith("-"):
            k, v = a.split("=", 1)
            out[k] = v
    return out


def _tree_hash(root: Path) -> str:
    h = hashlib.sha256()
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d != "build")
        for fn in sorted(filenames):
            p = Path(dirpath) / fn
            rel = str(p.relative_to(root))
            data = os.readlink(p).encode() if p.is_symlink() else p.read_bytes()
            h.update(f"{rel}\0{len(data)}\0".encode())
            h.update(data)
    return h.hexdigest()


@contextlib.contextmanager
def _locked(path: Path):
    with open(path, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def prime_runtime(module_dir: Path | str, variables: Mapping[str, str],
                  env: Mapping[str, str] | None = None) -> None:
    """Before `make -C module_dir user <variables>`: put the runtime library that make would
    build (for SAN and OPT of `variables`) in place, from the session's cache or by building
    it now.  Does nothing without a runtime copy or cache; a failed build is left for the
    real make to report."""
    rt = Path(module_dir) / "runtime"
    root = os.environ.get(_CACHE_ENV, "off")
    if root == "off" or not Path(root).is_dir() or not (rt / "Makefile").is_file():
        return
    san = variables.get("SAN", "") == "1"
    opt = variables.get("OPT", "-O2")
    cc = variables.get("CC", (env or os.environ).get("CC", "cc"))
    key = hashlib.sha256(json.dumps([_tree_hash(rt), san, opt, cc]).encode()).hexdigest()[:32]
    entry = Path(root) / key
    build = rt / "build" / ("user-san" if san else "user")
    with _locked(Path(root) / f"{key}.lock"):
        if entry.is_dir():
            if build.exists():
                shutil.rmtree(build)
            shutil.copytree(entry, build, symlinks=True)
            now = time.time()
            for dirpath, _, filenames in os.walk(build):
                for fn in filenames:
                    os.utime(Path(dirpath) / fn, (now, now))
            return
        run_env = dict(env or os.environ)
        run_env.pop("MAKEFLAGS", None)
        cmd = ["make", "-C", str(rt), f"SAN={'1' if san else ''}", f"CFLAGS={opt} -g"]
        if "CC" in variables:
            cmd.append(f"CC={variables['CC']}")
        r = subprocess.run(cmd, capture_output=True, text=True, env=run_env, timeout=900)
        if r.returncode != 0 or not (build / "libkgen.a").is_file():
            return
        tmp = Path(tempfile.mkdtemp(prefix=f"{key}.", dir=root))
        shutil.rmtree(tmp)
        shutil.copytree(build, tmp, symlinks=True)
        tmp.rename(entry)
