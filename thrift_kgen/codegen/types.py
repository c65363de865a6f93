"""The types half of the generator: `<prefix>_types.h` / `<prefix>_types.c`.

One generator class per construct (enum, const, typedef, container, struct;
unions and exceptions are structs with `is_union`), each rendering the
templates `C/<construct>/<role>/<variant>.j2` from the C model (model.py).

Entry points:

* `generate_files(program) -> {file name: text}` for one program (included
  programs are generated separately, each with its own prefix and header).
* `render_structs(models, statics)`: a service's args/result structs.
"""

from __future__ import annotations

from ..frontend import ast
from . import render
from .model import Container, CType, ProgramModel, StaticSink, StructModel, Unit


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
        return render.render(f"C/struct/prototype/{s.variant}.j2", s=s)

    def definitions(self, s: StructModel, inline_decode: bool = False) -> str:
        # Only the encoder and its prototype have a "message" variant; the rest is shared.
        # inline_decode: the decoders' bodies are also an always-inline function that the
        # processor calls, choosing the protocol once per message (service.py).
        return "\n".join(render.render(f"C/struct/{role}/{s.variant if role == 'encode' else 'struct'}.j2",
                                        s=s, inline_decode=inline_decode)
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


def _definitions(unit: Unit, sink: StaticSink | None,
                 inline_decode: frozenset[str] = frozenset()) -> list[str]:
    out = []
    if sink is not None and sink.defs:
        out.append("\n".join(sink.defs) + "\n")
    for c in unit.containers:
        out.append(CONTAINERS.definitions(c))
    for s in unit.structs:
        out.append(STRUCTS.definitions(s, s.cname in inline_decode))
    return out


def generate_files(program: "ast.Program | ProgramModel") -> dict[str, str]:
    """`<prefix>_types.h` and `.c` of one program (a program alone: lowered on its own)."""
    pm = program if isinstance(program, ProgramModel) else ProgramModel.of(program)
    program = pm.ast
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


def render_structs(models: list[StructModel], statics: list[str],
                   inline_decode: frozenset[str] = frozenset()) -> tuple[str, str]:
    """Declarations (for a .h) and definitions (for the .c) of a service's args/result
    structs, with the containers they need (guarded: a types header may declare them too).
    inline_decode: cnames of the structs whose decoders the processor inlines."""
    if not models:
        return "", ""
    unit = Unit(pm=models[0].program, structs=models).build()
    decl = _declarations(unit)
    decl.append("".join(("\n" if i else "") + STRUCTS.prototypes(s) for i, s in enumerate(models)))
    defs: list[str] = []
    if statics:
        defs.append("\n".join(statics) + "\n")
    defs += _definitions(unit, None, inline_decode)
    return "\n".join(decl), "\n".join(defs)
