"""Rendering of the module: service files, glue, handler skeleton, build files, runtime.

Everything here prints a `ModuleModel` (module.py) and decides nothing:

* `service_files(mod, v)`: `<prog>_<service>.h/.c`;
* `module_files(mod)`: `<prog>_module.h` (the served services' headers, the handler
  init/exit hooks) and `<prog>_main.c` (ops tables, kg_service, the parameters of
  params.py, init/exit and debugfs counters in the kernel; in user space a `main()`
  calling the runtime's `kg_user_main()`, which takes the same parameters as flags);
* `handler_skeleton(mod)`: `<prog>_handler.c`, the user's file (written only when absent);
* `build_files(mod)`: `Kbuild`, `Makefile`, `dkms.conf`, `kgen.mk`;
* `copy_runtime()`: the C runtime, so the output builds with nothing else.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

from .. import runtime
from . import render, types
from .module import ModuleModel
from .params import PARAMS
from .service import ServiceModel


def service_files(mod: ModuleModel, v: ServiceModel) -> dict[str, str]:
    decl, defs = types.render_structs(list(v.structs), list(v.statics), v.inline_decode)
    ctx = dict(svc=v, banner=render.banner(Path(v.program.path).name), handler_file=mod.handler_file)
    return {
        v.header: render.render("C/service/file/header.j2", guard=f"_{v.upper}_H",
                                structs_decl=decl, **ctx),
        v.source: render.render("C/service/file/source.j2", structs_def=defs, **ctx),
    }


def module_files(mod: ModuleModel) -> dict[str, str]:
    banner = render.banner(mod.source_name)
    headers = []
    for v in mod.services:
        if v.header not in headers:
            headers.append(v.header)
    what = "types" if mod.served is None else mod.served_desc
    return {
        mod.module_header: render.render(
            "C/module/header/default.j2", guard=f"_{mod.prefix.upper()}_MODULE_H", headers=headers,
            banner=banner, mod=mod),
        mod.main_file: render.render(
            f"C/module/main/{mod.main_variant}.j2", banner=banner, mod=mod, params=PARAMS,
            description=f"Thrift {what} from {mod.source_name} (thrift-kgen)"),
    }


def handler_skeleton(mod: ModuleModel) -> str:
    return render.render("C/handler/skeleton/default.j2", mod=mod)


def build_files(mod: ModuleModel, cwd: Path) -> dict[str, str]:
    banner = render.banner(mod.source_name)
    sources = list(mod.c_sources)
    objects = [s[:-2] + ".o" for s in sources]
    return {
        "Kbuild": render.render("C/build/kbuild/default.j2", objects=objects, banner=banner,
                                module=mod.module),
        "Makefile": render.render("C/build/makefile/default.j2", sources=sources, mod=mod,
                                  banner=banner, module=mod.module),
        "dkms.conf": render.render("C/build/dkms/default.j2", banner=banner, module=mod.module,
                                   version=mod.version),
        "kgen.mk": fragment(mod, cwd),
    }


def fragment(mod: ModuleModel, cwd: Path) -> str:
    """kgen.mk: regenerates the directory from wherever make runs.

    Every path in it is the fragment's own directory plus a path relative to it, so
    the rule works from any folder; -I folders are absolute when given so, else
    relative to the output directory.
    """
    out = Path(mod.out_dir).resolve()
    idl = Path(mod.program.path).resolve()
    deps = sorted({os.path.relpath(Path(pm.ast.path).resolve(), out) for pm in mod.programs
                   if Path(pm.ast.path).resolve() != idl})
    args = []
    if mod.service_option:
        args.append(f"--service {mod.service_option}")
    if mod.multiplexed:
        args.append("--multiplex")
    if mod.module_override:
        args.append(f"--module {mod.module}")
    if mod.version_override:
        args.append(f"--module-version {mod.version}")
    if mod.fuzz:
        args.append("--fuzz")
    var = re.sub(r"[^A-Za-z0-9_]", "_", mod.module).upper()
    includes = []
    for d in mod.include_dirs:
        if os.path.isabs(d):
            includes.append(f"-I {d}")
        else:
            rel = os.path.relpath((cwd / d).resolve(), out)
            includes.append(f"-I $(KGEN_{var}_DIR)/{rel}")
    return render.render(
        "C/build/fragment/default.j2",
        banner=render.banner(mod.source_name),
        out_rel=os.path.relpath(out, cwd),
        idl_rel=os.path.relpath(idl, out),
        deps=deps,
        var=var,
        args=" ".join(args + includes),
        source=mod.source_name,
    )


# --------------------------------------------------------------------------
# The runtime
# --------------------------------------------------------------------------

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
