"""Module glue, handler skeleton, build files and the runtime copy.

* `ModuleGenerator`: `<prog>_module.h` (the served services' headers, the
  handler init/exit hooks) and `<prog>_main.c` (ops tables, kg_service, module
  parameters, init/exit and debugfs counters in the kernel; in user space a
  `main()` calling the runtime's `kg_user_main()`, which takes the same
  settings as flags).
* `HandlerGenerator`: `<prog>_handler.c`, the user's file: written only when
  absent, never overwritten.
* `BuildGenerator`: `Kbuild`, `Makefile`, `dkms.conf`, `kgen.mk`.
* `copy_runtime()`: the C runtime, so the output builds with nothing else.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

from .. import runtime
from ..frontend import ast
from . import render
from .service import ServiceView, file_prefix

# Limits settable as module parameters: (name, kg_server_config field, help). The user-space
# flags (--max-conns ...) are parsed by the runtime (thrift_kgen/runtime/user/usermain.c), from the same list.
LIMITS = [
    ("max_conns", "max_conns", "Connections served at once; more are accepted and closed"),
    ("max_frame", "limits.max_frame", "Bytes in one message"),
    ("max_string", "limits.max_string", "Bytes in one string or binary"),
    ("max_container", "limits.max_container", "Elements in one list, set or map"),
    ("max_depth", "limits.max_depth", "Nesting of structs and containers (at most 64)"),
    ("arena_size", "limits.arena_size", "Bytes of decoded data per message"),
    ("rcvbuf_max", "rcvbuf_max", "Bytes buffered for reading per connection"),
    ("sndbuf_max", "sndbuf_max", "Bytes queued for sending per connection before it stops reading"),
    ("max_reply", "max_reply", "Largest reply; a larger one closes the connection"),
    ("mem_budget", "mem_budget", "Bytes of buffers and arenas for all connections together"),
    ("budget", "budget", "Messages served per connection per turn, for fairness"),
    # A fourth element: the runtime's default (a C macro) the parameter starts at; 0 disables.
    ("idle_timeout_ms", "idle_timeout_ms",
     "Close a connection that sends and takes nothing this long, in ms, 300000 by default",
     "KG_DEFAULT_IDLE_TIMEOUT_MS"),
    ("message_timeout_ms", "message_timeout_ms",
     "Close a connection whose message stays incomplete this long, in ms, 30000 by default",
     "KG_DEFAULT_MESSAGE_TIMEOUT_MS"),
]

DEFAULT_PORT = 9090


@dataclass
class Limit:
    name: str
    field: str
    desc: str
    flag: str  # the user-space server's flag, without "--"
    default: str | None = None  # set: starts at this C macro, always applied, 0 disables


def limits() -> list[Limit]:
    out = []
    for name, fld, desc, *default in LIMITS:
        default = default[0] if default else None
        zero = "never" if default else "the runtime's default"
        out.append(Limit(name, fld, f"{desc} (0: {zero})", name.replace("_", "-"), default))
    return out


class ModuleGenerator:
    def __init__(self, ctx):
        self.ctx = ctx

    def generate(self) -> dict[str, str]:
        c = self.ctx
        served = c.served
        services = c.chain  # the served services and their bases, bases first
        mux = sorted(c.mux_services, key=lambda v: v.name.encode())
        for v in services:
            v.ops_var = f"{v.prefix}_handlers"
            v.base_ops_var = f"{v.base.prefix}_handlers" if v.base else None
            v.process_fn_glue = f"{v.prefix}_serve"
        mux_rows = [dict(name=v.name, name_len=len(v.name.encode()), process_fn=v.process_fn_glue,
                         dispatch_fn=v.process_fn, ops_var=v.ops_var) for v in mux]
        svc_rows = [dict(ops_struct=v.ops_struct, ops_var=v.ops_var, base_ops_var=v.base_ops_var,
                         methods=v.methods, process_fn=v.process_fn_glue, dispatch_fn=v.process_fn)
                    for v in services]
        module_header = f"{c.prefix}_module.h"
        common = dict(
            banner=render.banner(c.source_name),
            module=c.module,
            prefix=c.prefix,
            module_header=module_header,
            init_fn=f"{c.prefix}_handler_init",
            exit_fn=f"{c.prefix}_handler_exit",
            source=c.source_name,
        )
        served_desc = _served_desc(c)
        files = {}
        headers = []
        for v in services:
            if v.header not in headers:
                headers.append(v.header)
        files[module_header] = render.render(
            "C/module/header/default.j2", guard=f"_{c.prefix.upper()}_MODULE_H",
            headers=headers, handler_file=c.handler_file, **common)
        if served is None:
            files[f"{c.prefix}_main.c"] = render.render(
                "C/module/main/types_only.j2", served_desc=served_desc,
                description=f"Thrift types from {c.source_name} (thrift-kgen)", **common)
            return files
        files[f"{c.prefix}_main.c"] = render.render(
            "C/module/main/default.j2",
            services=svc_rows,
            multiplexed=c.multiplexed,
            mux=mux_rows,
            default_process=served.process_fn,
            default_ops=served.ops_var,
            service_name=served.name,
            served_desc=served_desc,
            default_port=DEFAULT_PORT,
            limits=limits(),
            description=f"Thrift {served_desc} from {c.source_name} (thrift-kgen)",
            **common,
        )
        return files


def _served_desc(c) -> str:
    if c.served is None:
        return f"the types of {c.source_name} (no service)"
    if c.multiplexed:
        return "services " + ", ".join(v.name for v in c.mux_services) + " (multiplexed)"
    return f"service {c.served.name}"


class HandlerGenerator:
    def __init__(self, ctx):
        self.ctx = ctx

    def generate(self) -> str:
        c = self.ctx
        return render.render(
            "C/handler/skeleton/default.j2",
            module_header=f"{c.prefix}_module.h",
            init_fn=f"{c.prefix}_handler_init",
            exit_fn=f"{c.prefix}_handler_exit",
            services=c.chain,
            served_desc=_served_desc(c),
            source=c.source_name,
        )


class BuildGenerator:
    def __init__(self, ctx):
        self.ctx = ctx

    def generate(self) -> dict[str, str]:
        c = self.ctx
        sources = c.c_sources
        objects = [s[:-2] + ".o" for s in sources]
        common = dict(banner=render.banner(c.source_name), module=c.module)
        files = {
            "Kbuild": render.render("C/build/kbuild/default.j2", objects=objects, **common),
            "Makefile": render.render("C/build/makefile/default.j2", sources=sources, fuzz=c.fuzz,
                                      fuzz_sources=c.fuzz_sources, **common),
            "dkms.conf": render.render("C/build/dkms/default.j2", version=render.__version__, **common),
        }
        files["kgen.mk"] = self.fragment()
        return files

    def fragment(self) -> str:
        c = self.ctx
        out = Path(c.out_dir).resolve()
        idl = Path(c.program.path).resolve()
        deps = sorted({os.path.relpath(Path(p.path).resolve(), out) for p in c.all_programs
                       if Path(p.path).resolve() != idl})
        args = ""
        if c.options_service:
            args += f"--service {c.options_service} "
        if c.multiplexed:
            args += "--multiplex "
        if c.module_override:
            args += f"--module {c.module} "
        if c.fuzz:
            args += "--fuzz "
        for d in c.include_dirs:
            args += f"-I {os.path.relpath(Path(d).resolve(), Path.cwd())} "
        var = re.sub(r"[^A-Za-z0-9_]", "_", c.module).upper()
        return render.render(
            "C/build/fragment/default.j2",
            banner=render.banner(c.source_name),
            out_rel=os.path.relpath(out, Path.cwd()),
            idl_rel=os.path.relpath(idl, out),
            deps=deps,
            var=var,
            args=args,
            source=c.source_name,
        )


# --------------------------------------------------------------------------
# The runtime
# --------------------------------------------------------------------------

# What the fuzz harness links from the runtime: no server, no sockets.
FUZZ_RUNTIME = tuple(f"runtime/{rel}" for rel in runtime.fuzz_sources())
RUNTIME_SKIP = runtime.SKIP


def runtime_dir() -> Path:
    """The C runtime, shipped in the package (thrift_kgen/runtime)."""
    return runtime.RUNTIME_DIR


def runtime_files() -> list[tuple[Path, str]]:
    """(source file, path relative to runtime/) of every runtime file to ship."""
    return runtime.files()


def copy_runtime(out_dir: Path) -> list[Path]:
    """Copy the runtime into out_dir/runtime (regular files, no symlinks); stale files removed."""
    dest = out_dir / "runtime"
    files = runtime_files()
    wanted = {dest / rel for _, rel in files}
    if dest.is_dir():
        for p in sorted(dest.rglob("*"), reverse=True):
            if p.is_file() and p not in wanted and not RUNTIME_SKIP.search(p.name):
                p.unlink()
    written = []
    for src, rel in files:
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists() or target.read_bytes() != src.read_bytes():
            shutil.copyfile(src, target)
        written.append(target)
    return written
