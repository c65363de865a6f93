"""The C runtime, shipped inside the package: the one description of its files.

Everything under this folder's `PARTS` is the runtime, except build products
(`SKIP`); a generated module directory gets a copy of exactly `files()`
(thrift_kgen.codegen.glue.copy_runtime), and the wheel ships the same set
(pyproject.toml's package-data takes the folder, its exclude-package-data the
build products; tests/codegen/test_module_glue.py checks that both agree).
"""

from __future__ import annotations

import re
from pathlib import Path

RUNTIME_DIR = Path(__file__).resolve().parent
PARTS = ("include", "core", "kernel", "user", "Kbuild.inc", "Makefile")
SKIP = re.compile(r"(\.o|\.ko|\.cmd|\.mod|\.mod\.c|\.a|\.d|\.py|\.pyc|~)$|^\.")
# The core's socket layers and server: what a build without sockets (the fuzz harness)
# leaves out; the dispatch helpers it links only with a service (SERVICE_CORE).
NETWORK_CORE = ("core/bsock.c", "core/dgram.c", "core/params.c", "core/server.c", "core/tsock.c")
SERVICE_CORE = ("core/dispatch.c",)


def files() -> list[tuple[Path, str]]:
    """(file, path relative to the runtime folder) of every runtime file, sorted."""
    out = []
    for part in PARTS:
        base = RUNTIME_DIR / part
        if base.is_file():
            out.append((base, part))
            continue
        for p in sorted(base.rglob("*")):
            if p.is_file() and not p.is_symlink() and not SKIP.search(p.name):
                out.append((p, p.relative_to(RUNTIME_DIR).as_posix()))
    return out


def fuzz_sources() -> list[str]:
    """The runtime's .c files a build without sockets links (relative paths)."""
    return [rel for _, rel in files() if rel.startswith("core/") and rel.endswith(".c") and rel not in NETWORK_CORE + SERVICE_CORE]
