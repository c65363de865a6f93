"""The types half of the generator: `<prefix>_types.h` / `<prefix>_types.c`.

One generator class per construct (enum, const, typedef, container, struct;
unions and exceptions are structs with `is_union`), each rendering the
templates `C/<construct>/<role>/<variant>.j2` from the C model (model.py).

Entry points:

* `generate_files(program) -> {file name: text}` for one program (included
  programs are generated separately, each with its own prefix and header).
* `service_api(ctx)`: what the service half needs (see typesapi.py).
"""

from __future__ import annotations

from ..frontend import ast
from . import render
from .model import (
    Container,
    CType,
    ProgramModel,
    StaticSink,
    StructModel,
    Unit,
)


class EnumGenerator:
    def declaration(self, e) -> str:
        return render.render("C/enum/declaration/enum.j2", e=e)

    def prototype(self, e) -> str:
        return render.render("C/enum/prototype/enum.j2", e=e)

    def definition(self, e) -> str:
        return render.render("C/enum/name/enum.j2", e=e)


class ConstGenerator:
    def declaration(self, k) -> str:
        return render.render("C/const/declaration/const.j2", k=k)

    def definition(self, k) -> str:
        return render.render("C/const/definition/const.j2", k=k)


class TypedefGenerator:
    def declaration(self, t) -> str:
        return render.render("C/typedef/declaration/typedef.j2", t=t)


class ContainerGenerator:
    def declaration(self, c: Container) -> str:
        return render.render("C/container/declaration/container.j2", c=c)

    def entry(self, c: Container) -> str:
        return render.render("C/container/declaration/entry.j2", c=c)

    def definitions(self, c: Container) -> str:
        return (render.render("C/container/encode/container.j2", c=c) + "\n"
                + render.render("C/container/decode/container.j2", c=c))


class StructGenerator:
    def declaration(self, s: StructModel) -> str:
        return render.render("C/struct/declaration/struct.j2", s=s)

    def prototypes(self, s: StructModel) -> str:
        return render.render("C/struct/prototype/struct.j2", s=s)

    def definitions(self, s: StructModel) -> str:
        return "\n".join(render.render(f"C/struct/{role}/struct.j2", s=s)
                         for role in ("init", "encode", "decode", "encoded_size"))


ENUMS = EnumGenerator()
CONSTS = ConstGenerator()
TYPEDEFS = TypedefGenerator()
CONTAINERS = ContainerGenerator()
STRUCTS = StructGenerator()


def _declarations(unit: Unit) -> list[str]:
    out = []
    for kind, obj in unit.decls:
        if kind == "struct":
            out.append(STRUCTS.declaration(obj))
        elif kind == "container":
            out.append(CONTAINERS.declaration(obj))
        else:
            out.append(CONTAINERS.entry(obj))
    return out


def _definitions(unit: Unit, sink: StaticSink | None) -> list[str]:
    out = []
    if sink is not None and sink.defs:
        out.append("\n".join(sink.defs) + "\n")
    for c in unit.containers:
        out.append(CONTAINERS.definitions(c))
    for s in unit.structs:
        out.append(STRUCTS.definitions(s))
    return out


def generate_files(program: ast.Program) -> dict[str, str]:
    pm = ProgramModel.of(program)
    extra: list[CType] = [k.ctype for k in pm.consts] + [t.ctype for t in pm.typedefs]
    unit = Unit(pm=pm, structs=list(pm.structs), extra_types=extra).build()
    banner = render.banner(pm.source)

    hparts: list[str] = []
    hparts += [ENUMS.declaration(e) for e in pm.enums]
    hparts += [CONSTS.declaration(k) for k in pm.consts if k.define is not None]
    hparts += _declarations(unit)
    hparts += [TYPEDEFS.declaration(t) for t in pm.typedefs]
    protos = "".join(ENUMS.prototype(e) for e in pm.enums)
    protos += "".join(("\n" if i or protos else "") + STRUCTS.prototypes(s)
                      for i, s in enumerate(pm.structs))
    if protos:
        hparts.append(protos)
    hparts += [CONSTS.declaration(k) for k in pm.consts if k.define is None]
    header = render.render(
        "C/types_file/header/header.j2", banner=banner, doc=render.comment_text(program.doc),
        guard=pm.guard, includes=[i.types_h for i in pm.includes], structs=pm.structs, parts=hparts)

    cparts: list[str] = []
    if pm.statics.defs:
        cparts.append("\n".join(pm.statics.defs) + "\n")
    data = "".join(CONSTS.definition(k) for k in pm.consts if k.define is None)
    if data:
        cparts.append(data)
    cparts += [ENUMS.definition(e) for e in pm.enums]
    cparts += _definitions(unit, None)
    source = render.render("C/types_file/source/source.j2", banner=banner, header=pm.types_h,
                           parts=cparts)
    return {pm.types_h: header, pm.types_c: source}


# ---------------------------------------------------------------------------
# What the service half uses (typesapi.TypesAPI delegates here)
# ---------------------------------------------------------------------------


class ServiceTypes:
    """The types half as the service generator sees it."""

    def __init__(self, ctx=None):
        self.ctx = ctx
        self._synth: dict[int, StructModel] = {}
        self._sinks: dict[int, StaticSink] = {}

    def _pm(self, s_or_prog) -> ProgramModel:
        prog = s_or_prog if isinstance(s_or_prog, ast.Program) else s_or_prog.program
        return ProgramModel.of(prog)

    def _root(self) -> ProgramModel:
        return ProgramModel.of(self.ctx.program)

    def types_header(self, program: ast.Program) -> str:
        return ProgramModel.of(program).types_h

    def true(self, t):
        return ast.true_type(t)

    def ctype(self, t) -> CType:
        prog = getattr(self.ctx, "program", None)
        return ProgramModel.of(prog).ctype(t) if prog is not None else _any_pm(t).ctype(t)

    def c_type(self, t) -> str:
        return self.ctype(t).c

    def ttype(self, t) -> str:
        return self.ctype(t).ttype

    def mangle(self, t) -> str:
        return self.ctype(t).mangle

    def container_name(self, t) -> str:
        ct = self.ctype(t)
        return ct.container.cname if ct.container else ct.c

    def sname(self, s: ast.Struct) -> str:
        return self._pm(s).struct_cname(s)

    def by_value(self, t) -> bool:
        """Handlers take scalars, enums and string/binary views by value."""
        return self.ctype(t).cat in ("scalar", "bytes")

    def _model(self, s: ast.Struct) -> StructModel:
        sm = self._synth.get(id(s))
        if sm is not None:
            return sm
        return self._pm(s).struct_model(s)

    def _field(self, s: ast.Struct, f: ast.Field):
        sm = self._model(s)
        for fm in sm.fields:
            if fm.ast is f:
                return fm
        for fm in sm.fields:
            if fm.id == f.id:
                return fm
        raise KeyError(f"{f.name} not in {s.name}")

    def member(self, s: ast.Struct, f: ast.Field) -> str:
        return self._field(s, f).member

    def isset(self, s: ast.Struct, f: ast.Field, var: str) -> str:
        return f"{var}isset.{self._field(s, f).member}"

    def set_isset(self, s: ast.Struct, f: ast.Field, var: str) -> str:
        return f"{self.isset(s, f, var)} = true;"

    def struct_ref(self, s: ast.Struct, cname: str, encode_fn: str):
        from .service import StructRef

        pm = self._pm(s)
        sink = self._sinks.setdefault(id(s), StaticSink(f"{cname}_default"))
        sm = pm.struct_model(s, cname=cname, sink=sink)
        self._synth[id(s)] = sm
        return StructRef(ast=s, c_type=sm.c, init=sm.init_fn, encode=sm.encode_fn,
                         decode=sm.decode_fn, encode_fn=encode_fn)

    def render_structs(self, structs: list[ast.Struct]) -> tuple[str, str]:
        models = [self._model(s) for s in structs]
        if not models:
            return "", ""
        pm = models[0].program
        unit = Unit(pm=pm, structs=models).build()
        decl = _declarations(unit)
        decl.append("".join(("\n" if i else "") + STRUCTS.prototypes(s) for i, s in enumerate(models)))
        defs: list[str] = []
        for s in structs:  # static data of the defaults of these structs only
            sk = self._sinks.get(id(s))
            if sk is not None and sk.defs:
                defs.append("\n".join(sk.defs) + "\n")
        defs += _definitions(unit, None)
        return "\n".join(decl), "\n".join(defs)


def _any_pm(t) -> ProgramModel:
    tt = ast.true_type(t)
    prog = getattr(tt, "program", None)
    if prog is None:
        raise ValueError("service_api needs ctx.program to lower a base or container type")
    return ProgramModel.of(prog)


def service_api(ctx) -> ServiceTypes:
    return ServiceTypes(ctx)
