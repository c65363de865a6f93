"""Code generation: a resolved Program -> a directory that builds `<name>.ko`.

`generate(program, out_dir, options)` writes, for `foo.thrift`:

* `foo_types.h/.c` (and `<inc>_types.h/.c` for every included file): the types
  half (model.py, types.py);
* `foo_<service>.h/.c` for the served service and its bases (service.py);
* `foo_module.h`, `foo_main.c` (module parameters and init/exit; `main()` in
  user space), `foo_handler.c` (only when absent: it is the user's);
* `Kbuild`, `Makefile`, `dkms.conf`, `kgen.mk`, and `runtime/` (glue.py);
* with `fuzz`: `foo_fuzz.c`, a libFuzzer harness, and `foo_fuzz_targets.json`,
  what the seed writer needs (fuzz.py), and `make fuzz` in the Makefile.

The chain never points back: naming.py -> lowering (model.py for types, service.py,
module.py: one immutable ModuleModel) -> rendering (types.py, glue.py, fuzz.py, through
render.py's templates `C/<construct>/<role>/<variant>.j2`, the variant named by the model).

It returns the paths it wrote (the handler file only when it wrote it). Warnings (C names
changed to resolve a clash, handlers missing from a kept handler file) go to `warn`, one
`Diagnostic` each, or to stderr.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

from ..frontend import ast
from ..frontend.diagnostics import WARNING, Diagnostic
from . import glue
from .module import ModuleModel, all_programs, lower

__all__ = ["Options", "generate", "all_programs", "missing_handlers"]


@dataclass
class Options:
    """Generation options: what the CLI (`thrift-kgen generate`) passes to `generate`."""

    service: str | None = None  # the service to serve; needed when the file has several
    include_dirs: list[str] = field(default_factory=list)
    module_name: str | None = None  # default: the IDL file's base name in lower case
    module_version: str | None = None  # MODULE_VERSION and dkms.conf; default: thrift-kgen's
    multiplex: bool = False  # serve every service of the file (TMultiplexedProtocol)
    fuzz: bool = False  # also write the libFuzzer harness (<prefix>_fuzz.c) and `make fuzz`
    verbose: bool = False
    source: str = ""


def render_module(mod: ModuleModel, cwd: Path) -> dict[str, str]:
    """Every generated file but the handler file: name -> text."""
    files: dict[str, str] = {}
    for pm in mod.programs:
        files.update(glue.types.generate_files(pm))
    for v in mod.services:
        files.update(glue.service_files(mod, v))
    files.update(glue.module_files(mod))
    if mod.fuzz:
        from .fuzz import fuzz_files

        files.update(fuzz_files(mod))
    files.update(glue.build_files(mod, cwd))
    return files


def missing_handlers(mod: ModuleModel, text: str) -> list[Diagnostic]:
    """A warning for every handler the kept handler file does not define."""
    out = []
    for v in mod.services:
        for m in v.methods:
            if not re.search(rf"\b{re.escape(m.handler)}\s*\(", text):
                out.append(Diagnostic(m.loc, WARNING, (
                    f"{mod.handler_file} has no handler {m.handler}() for {v.name}.{m.name}; "
                    f"{mod.handler_file}.skeleton has one")))
    return out


def _print(d: Diagnostic) -> None:
    print(d.format(), file=sys.stderr)


def generate(program: ast.Program, out_dir, options=None, warn=None) -> list[Path]:
    warn = warn or _print
    out = Path(out_dir)
    mod = lower(program, out, options)
    out.mkdir(parents=True, exist_ok=True)
    for d in mod.warnings:
        warn(d)
    written = []
    for name, text in render_module(mod, Path.cwd()).items():
        path = out / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    handler = out / mod.handler_file
    skeleton = out / f"{mod.handler_file}.skeleton"
    if not handler.exists():
        handler.write_text(glue.handler_skeleton(mod))
        written.append(handler)
    else:
        missing = missing_handlers(mod, handler.read_text(errors="replace"))
        if missing:
            skeleton.write_text(glue.handler_skeleton(mod))
            written.append(skeleton)
            for d in missing:
                warn(d)
        elif skeleton.exists():
            skeleton.unlink()  # ours, and nothing is missing any more
    written.extend(glue.copy_runtime(out))
    return written
