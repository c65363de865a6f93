"""Lowering of a whole module: one immutable `ModuleModel` the renderers only read.

`lower(program, out_dir, options)` decides everything the output depends on, in
one place and in a fixed order: the name table (the glue's own symbols first, then
the types of every program, included ones first, then the services), the served
services, the handler file and the sources to build. Rendering (types.py, glue.py,
fuzz.py) prints this model and adds nothing to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..frontend import ast
from ..frontend.diagnostics import ERROR, WARNING, CompileError, Diagnostic
from .model import ProgramModel, TypesLowering
from .. import runtime
from .naming import NameTable, file_prefix, module_name
from .params import PARAMS
from .service import ServiceLowering, ServiceModel

# What the fuzz harness links from the runtime: no server, no sockets.
FUZZ_RUNTIME = tuple(f"runtime/{rel}" for rel in runtime.fuzz_sources())
# ... and, with a service, the dispatch helpers (their replies go to the harness).
FUZZ_RUNTIME_SERVED = tuple(f"runtime/{rel}" for rel in runtime.SERVICE_CORE)

# Module-level symbols of <prefix>_main.c (and the handler hooks), `<prefix>_<name>`.
GLUE_SYMBOLS = ("service", "process", "server", "debugfs", "data", "module_init", "module_exit",
                "mux", "params", "handler_init", "handler_exit")


def all_programs(program: ast.Program) -> list[ast.Program]:
    """The program and everything it includes, included files first, each once."""
    seen: set[int] = set()
    order: list[ast.Program] = []

    def visit(p: ast.Program):
        if id(p) in seen:
            return
        seen.add(id(p))
        for inc in p.includes:
            if inc.program is not None:
                visit(inc.program)
        order.append(p)

    visit(program)
    return order


@dataclass(frozen=True)
class ModuleModel:
    program: ast.Program
    out_dir: Path
    prefix: str  # C prefix of the root program ("foo")
    module: str  # module name ("foo": foo.ko, foo_user)
    version: str  # MODULE_VERSION and dkms.conf's PACKAGE_VERSION
    source_name: str  # "foo.thrift"
    programs: tuple[ProgramModel, ...]  # the include closure, included first
    include_dirs: tuple[str, ...]
    service_option: str | None  # --service as given
    multiplexed: bool
    module_override: bool
    version_override: bool
    fuzz: bool
    served: ServiceModel | None
    services: tuple[ServiceModel, ...]  # every service served, bases first
    mux: tuple[ServiceModel, ...]  # multiplexed: the served services, sorted by name
    handler_file: str
    module_header: str
    main_file: str
    init_fn: str
    exit_fn: str
    c_sources: tuple[str, ...]
    fuzz_sources: tuple[str, ...]
    warnings: tuple[Diagnostic, ...]

    @property
    def main_variant(self) -> str:
        """C/module/main/<variant>.j2."""
        return "types_only" if self.served is None else "service"

    @property
    def process_variant(self) -> str:
        """C/module/process/<variant>.j2: one service, or several behind kg_mux_process()."""
        return "multiplexed" if self.multiplexed else "single"

    @property
    def first_twoway(self) -> str | None:
        """'Service.method' of the first served method that is not oneway (UDP refuses it)."""
        for v in self.services:
            for m in v.methods:
                if not m.oneway:
                    return f"{v.name}.{m.name}"
        return None

    @property
    def served_desc(self) -> str:
        if self.served is None:
            return f"the types of {self.source_name} (no service)"
        if self.multiplexed:
            return "services " + ", ".join(v.name for v in self.mux) + " (multiplexed)"
        return f"service {self.served.name}"

    def glue(self, name: str) -> str:
        """A module-level symbol of the glue, claimed before any IDL name."""
        assert name in GLUE_SYMBOLS, name
        return f"{self.prefix}_{name}"


def _opt(options, name, default=None):
    if options is None:
        return default
    if isinstance(options, dict):
        return options.get(name, default)
    return getattr(options, name, default)


def _error(program: ast.Program, msg: str) -> CompileError:
    return CompileError([Diagnostic(ast.Location(program.path, 0, 0), ERROR, msg)])


def _served(program: ast.Program, want: str | None, multiplexed: bool):
    services = program.services
    if want:
        served = next((s for s in services if s.name == want), None)
        if served is None:
            names = ", ".join(s.name for s in services) or "none"
            raise _error(program, f"no service named {want} in {program.path} (services: {names})")
        return served
    if len(services) > 1 and not multiplexed:
        names = ", ".join(s.name for s in services)
        raise _error(program, f"{program.path} defines {len(services)} services ({names}): "
                              "choose one with --service NAME, or serve all with --multiplex")
    return services[-1] if services else None  # no service: a module of types only


def lower(program: ast.Program, out_dir, options=None) -> ModuleModel:
    multiplexed = bool(_opt(options, "multiplex", False))
    want = _opt(options, "service")
    served_ast = _served(program, want, multiplexed)
    prefix = file_prefix(program)
    names = NameTable()
    names.reserve([f"{prefix}_{s}" for s in GLUE_SYMBOLS], "the module's glue")
    names.reserve([p.var for p in PARAMS], "a module parameter")
    if program.name[:1].isdigit():
        names.warnings.append(Diagnostic(ast.Location(program.path, 0, 0), WARNING, (
            f"{Path(program.path).name} starts with a digit, which C names cannot: "
            f"C prefix {prefix}, module {module_name(program, _opt(options, 'module_name'))}")))
    types = TypesLowering(names)
    programs = tuple(types.program(p) for p in all_programs(program))
    services = ServiceLowering(types)
    roots = list(program.services) if multiplexed else ([served_ast] if served_ast else [])
    chain: list[ServiceModel] = []
    for s in roots:
        for v in services.chain(s):
            if v not in chain:
                chain.append(v)
    roots_m = [services.model(s) for s in roots]
    served = services.model(served_ast) if served_ast is not None else None
    handler_file = f"{prefix}_handler.c"
    type_sources = [pm.types_c for pm in programs]
    service_sources = [v.source for v in chain]
    c_sources = [f"{prefix}_main.c", handler_file] + service_sources + type_sources
    fuzz = bool(_opt(options, "fuzz", False))
    fuzz_sources: list[str] = []
    if fuzz:
        fuzz_sources = ([f"{prefix}_fuzz.c"] + ([handler_file] if served else []) + service_sources
                        + type_sources + list(FUZZ_RUNTIME)
                        + (list(FUZZ_RUNTIME_SERVED) if served else []))
    version = _opt(options, "module_version")
    if version is not None and not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.+~_-]{0,63}", version):
        raise _error(program, f"--module-version {version!r}: letters, digits and . + ~ _ -, "
                              "starting with a letter or digit (it goes into MODULE_VERSION "
                              "and dkms.conf)")
    return ModuleModel(
        program=program,
        out_dir=Path(out_dir),
        prefix=prefix,
        module=module_name(program, _opt(options, "module_name")),
        version=version or __version__,
        source_name=Path(program.path).name,
        programs=programs,
        include_dirs=tuple(_opt(options, "include_dirs", []) or []),
        service_option=want,
        multiplexed=multiplexed,
        module_override=bool(_opt(options, "module_name")),
        version_override=bool(version),
        fuzz=fuzz,
        served=served,
        services=tuple(chain),
        mux=tuple(sorted(roots_m, key=lambda v: v.name.encode())),
        handler_file=handler_file,
        module_header=f"{prefix}_module.h",
        main_file=f"{prefix}_main.c",
        init_fn=f"{prefix}_handler_init",
        exit_fn=f"{prefix}_handler_exit",
        c_sources=tuple(c_sources),
        fuzz_sources=tuple(fuzz_sources),
        warnings=tuple(names.warnings),
    )
