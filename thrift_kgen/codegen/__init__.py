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

It returns the paths it wrote (the handler file only when it wrote it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..frontend import ast
from ..frontend.diagnostics import CompileError, Diagnostic, ERROR
from . import glue
from .service import ServiceGenerator, file_prefix


@dataclass
class Options:
    """Generation options: what the CLI (`thrift-kgen generate`) passes to `generate`."""

    service: str | None = None  # the service to serve; default: the last one defined
    include_dirs: list[str] = field(default_factory=list)
    module_name: str | None = None  # default: the IDL file's base name in lower case
    multiplex: bool = False  # serve every service of the file (TMultiplexedProtocol)
    fuzz: bool = False  # also write the libFuzzer harness (<prefix>_fuzz.c) and `make fuzz`
    verbose: bool = False
    source: str = ""


def _opt(options, name, default=None):
    if options is None:
        return default
    if isinstance(options, dict):
        return options.get(name, default)
    return getattr(options, name, default)


def _error(program: ast.Program, msg: str, loc: ast.Location | None = None) -> CompileError:
    return CompileError([Diagnostic(loc or ast.Location(program.path, 0, 0), ERROR, msg)])


def all_programs(program: ast.Program) -> list[ast.Program]:
    """The program and everything it includes, included files first, each once."""
    seen: dict[int, ast.Program] = {}
    order: list[ast.Program] = []

    def visit(p: ast.Program):
        if id(p) in seen:
            return
        seen[id(p)] = p
        for inc in p.includes:
            if inc.program is not None:
                visit(inc.program)
        order.append(p)

    visit(program)
    return order


@dataclass
class Context:
    program: ast.Program
    out_dir: Path
    prefix: str  # C prefix of the root program ("foo")
    module: str  # module name ("foo": foo.ko, foo_user)
    source_name: str  # "foo.thrift"
    all_programs: list[ast.Program]
    include_dirs: list[str]
    options_service: str | None
    multiplexed: bool
    module_override: bool = False
    served: object = None  # ServiceView
    chain: list = field(default_factory=list)  # ServiceViews: every service served, bases first
    mux_services: list = field(default_factory=list)
    handler_file: str = ""
    c_sources: list[str] = field(default_factory=list)
    fuzz: bool = False
    fuzz_sources: list[str] = field(default_factory=list)


def _module_name(program: ast.Program, override: str | None) -> str:
    import re

    name = override or Path(program.path).name.rsplit(".", 1)[0].lower()
    name = re.sub(r"[^a-z0-9_]", "_", name.lower())
    if not name or name[0].isdigit():
        name = "m_" + name
    return name


def generate(program: ast.Program, out_dir, options=None) -> list[Path]:
    from .typesapi import generate_types_files

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    programs = all_programs(program)
    services = program.services
    want = _opt(options, "service")
    if want:
        served = next((s for s in services if s.name == want), None)
        if served is None:
            names = ", ".join(s.name for s in services)
            raise _error(program, f"no service named {want} in {program.path} (services: {names})")
    else:
        served = services[-1] if services else None  # no service: a module of types only
    multiplexed = bool(_opt(options, "multiplex", False))
    ctx = Context(
        program=program,
        out_dir=out,
        prefix=file_prefix(program),
        module=_module_name(program, _opt(options, "module_name")),
        source_name=Path(program.path).name,
        all_programs=programs,
        include_dirs=list(_opt(options, "include_dirs", []) or []),
        options_service=want,
        multiplexed=multiplexed,
        module_override=bool(_opt(options, "module_name")),
        fuzz=bool(_opt(options, "fuzz", False)),
    )
    ctx.handler_file = f"{ctx.prefix}_handler.c"

    files: dict[str, str] = {}
    # Types of every program in the include closure.
    type_sources = []
    for p in programs:
        for name, text in generate_types_files(p, ctx).items():
            files[name] = text
            if name.endswith(".c"):
                type_sources.append(name)

    # Services: the served one (or all, multiplexed) and their bases.
    sgen = ServiceGenerator(ctx)
    roots = services if multiplexed else ([served] if served else [])
    chain = []
    for s in roots:
        for v in sgen.chain(s):
            if v not in chain:
                chain.append(v)
    ctx.chain = chain
    ctx.served = sgen.view(served) if served else None
    ctx.mux_services = [sgen.view(s) for s in roots]
    service_sources = []
    for v in chain:
        files.update(sgen.files(v))
        service_sources.append(v.source)

    files.update(glue.ModuleGenerator(ctx).generate())
    ctx.c_sources = [f"{ctx.prefix}_main.c", ctx.handler_file] + service_sources + type_sources
    if ctx.fuzz:
        from .fuzz import FuzzGenerator

        files.update(FuzzGenerator(ctx, sgen).generate())
        ctx.fuzz_sources = ([f"{ctx.prefix}_fuzz.c"] + ([ctx.handler_file] if served else [])
                            + service_sources + type_sources + list(glue.FUZZ_RUNTIME))
    files.update(glue.BuildGenerator(ctx).generate())

    written = []
    for name, text in files.items():
        path = out / name
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
        written.append(path)
    handler = out / ctx.handler_file
    if not handler.exists():
        handler.write_text(glue.HandlerGenerator(ctx).generate())
        written.append(handler)
    written.extend(glue.copy_runtime(out))
    return written
