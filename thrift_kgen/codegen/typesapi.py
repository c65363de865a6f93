"""What the service half needs from the types half, in one place.

`TypesAPI` answers: the C type of a Thrift type, whether a handler takes it by
value, the member and isset expressions of a struct field, and renders the
synthesized args/result structs. It uses the types half (model.py, types.py)
when that is present, else `_Fallback`: a small self-contained lowering that
covers every Thrift type so the service half can be built and tested on its
own. The fallback is a stop-gap, not a second types generator: once the types
half is in, the fallback is only used if it is absent.

The contract the types half implements (thrift_kgen/codegen/types.py):

    generate_files(program) -> {"<prefix>_types.h": text, "<prefix>_types.c": text}
    service_api(ctx) -> an object with
        types_header(program) -> "<prefix>_types.h"
        c_type(t) -> "s32" / "struct kg_bytes" / "struct foo_point" / "struct kg_list_i32"
        by_value(t) -> bool        handler takes it by value (scalars, enums, kg_bytes)
        member(struct_ast, field_ast) -> C member name
        isset(struct_ast, field_ast, var) -> "<var>isset.<member>" (an lvalue)
        set_isset(struct_ast, field_ast, var) -> C statement, or "" when not needed
        struct_ref(struct_ast, cname, encode_fn) -> service.StructRef (init/encode/decode names)
        render_structs([struct_ast...]) -> (declarations for the .h, definitions for the .c)
            for the synthesized args/result structs, with the containers they need
            (guarded, as they may also be declared by a types header)

`ctx` is codegen.Context (program, prefix, all_programs...).
"""

from __future__ import annotations

from pathlib import Path

from ..frontend import ast
from .service import c_ident, file_prefix, snake


def _types_half():
    import os

    if os.environ.get("KGEN_TYPES_FALLBACK"):  # tests of the fallback itself
        return None
    try:
        from . import types as types_mod  # noqa: F401
        from . import model as model_mod  # noqa: F401
    except ImportError:
        return None
    if not hasattr(types_mod, "service_api"):
        return None
    return types_mod


class TypesAPI:
    def __init__(self, ctx):
        mod = _types_half()
        self.impl = mod.service_api(ctx) if mod else _Fallback(ctx)

    def __getattr__(self, name):
        return getattr(self.impl, name)


def generate_types_files(program: ast.Program, ctx=None) -> dict[str, str]:
    mod = _types_half()
    if mod is not None:
        return mod.generate_files(program)
    return _Fallback(ctx).types_files(program)


# --------------------------------------------------------------------------
# Fallback lowering
# --------------------------------------------------------------------------

INT_TYPES = {"bool": "bool", "byte": "s8", "i8": "s8", "i16": "s16", "i32": "s32",
             "i64": "s64", "double": "u64"}
TTYPE = {"bool": "KG_T_BOOL", "byte": "KG_T_BYTE", "i8": "KG_T_BYTE", "i16": "KG_T_I16",
         "i32": "KG_T_I32", "i64": "KG_T_I64", "double": "KG_T_DOUBLE", "string": "KG_T_STRING",
         "binary": "KG_T_STRING", "uuid": "KG_T_UUID"}
RW = {"bool": "bool", "byte": "byte", "i8": "byte", "i16": "i16", "i32": "i32", "i64": "i64",
      "double": "double", "string": "bytes", "binary": "bytes"}


class _Fallback:
    def __init__(self, ctx=None):
        self.ctx = ctx

    # -- names ---------------------------------------------------------------

    def types_header(self, program: ast.Program) -> str:
        return f"{file_prefix(program)}_types.h"

    def sname(self, s: ast.Struct) -> str:
        return f"{file_prefix(s.program)}_{snake(s.name)}"

    def true(self, t):
        return ast.true_type(t)

    def c_type(self, t) -> str:
        t = self.true(t)
        if isinstance(t, ast.BaseType):
            if t.name in INT_TYPES:
                return INT_TYPES[t.name]
            if t.name == "uuid":
                return "struct kg_uuid"
            return "struct kg_bytes"
        if isinstance(t, ast.Enum):
            return "s32"
        if isinstance(t, ast.Struct):
            return f"struct {self.sname(t)}"
        return f"struct {self.container_name(t)}"

    def mangle(self, t) -> str:
        t = self.true(t)
        if isinstance(t, ast.BaseType):
            return {"byte": "i8"}.get(t.name, t.name)
        if isinstance(t, ast.Enum):
            return "i32"
        if isinstance(t, ast.Struct):
            return self.sname(t)
        if isinstance(t, ast.ListType):
            return f"list_{self.mangle(t.elem)}"
        if isinstance(t, ast.SetType):
            return f"set_{self.mangle(t.elem)}"
        return f"map_{self.mangle(t.key)}_{self.mangle(t.value)}"

    def container_name(self, t) -> str:
        return f"kg_{self.mangle(t)}"

    def by_value(self, t) -> bool:
        t = self.true(t)
        return isinstance(t, ast.Enum) or (isinstance(t, ast.BaseType) and t.name != "uuid")

    def member(self, s: ast.Struct, f: ast.Field) -> str:
        return c_ident(f.name)

    def isset(self, s: ast.Struct, f: ast.Field, var: str) -> str:
        return f"{var}isset.{c_ident(f.name)}"

    def set_isset(self, s: ast.Struct, f: ast.Field, var: str) -> str:
        return f"{self.isset(s, f, var)} = true;"

    def ttype(self, t) -> str:
        t = self.true(t)
        if isinstance(t, ast.BaseType):
            return TTYPE[t.name]
        if isinstance(t, ast.Enum):
            return "KG_T_I32"
        if isinstance(t, ast.Struct):
            return "KG_T_STRUCT"
        return {ast.ListType: "KG_T_LIST", ast.SetType: "KG_T_SET", ast.MapType: "KG_T_MAP"}[type(t)]

    def struct_ref(self, s: ast.Struct, cname: str, encode_fn: str):
        from .service import StructRef

        s._kg_cname = cname  # synthesized: its name is the service's
        return StructRef(ast=s, c_type=f"struct {cname}", init=f"{cname}_init",
                         encode=f"{cname}_encode", decode=f"{cname}_decode", encode_fn=encode_fn)

    # -- rendering -------------------------------------------------------------

    def _cname(self, s: ast.Struct) -> str:
        return getattr(s, "_kg_cname", None) or self.sname(s)

    def render_structs(self, structs: list[ast.Struct]) -> tuple[str, str]:
        decl, defs = [], []
        self._containers = []
        self._seen_containers = set()
        for s in structs:
            for f in s.fields:
                self._need_containers(f.type)
        for cname, t in self._containers:
            decl.append(self._container_decl(cname, t))
        for s in structs:
            decl.append(self._struct_decl(s))
        for s in structs:
            defs.append(self._struct_defs(s))
        return "\n".join(decl), "\n".join(defs)

    def _need_containers(self, t):
        t = self.true(t)
        if isinstance(t, (ast.ListType, ast.SetType)):
            self._need_containers(t.elem)
        elif isinstance(t, ast.MapType):
            self._need_containers(t.key)
            self._need_containers(t.value)
        else:
            return
        name = self.container_name(t)
        if name not in self._seen_containers:
            self._seen_containers.add(name)
            self._containers.append((name, t))

    def _container_decl(self, name, t) -> str:
        guard = f"KG_CONTAINER_{name.upper()}"
        if isinstance(t, ast.MapType):
            eg = f"{guard}_ENTRY"
            entry = (f"#ifndef {eg}\n#define {eg}\nstruct {name}_entry {{\n\t{self.c_type(t.key)} key;\n"
                     f"\t{self.c_type(t.value)} value;\n}};\n#endif\n")
            body = f"\tu32 count;\n\tstruct {name}_entry *entries;\n"
            return f"{entry}#ifndef {guard}\n#define {guard}\nstruct {name} {{\n{body}}};\n#endif\n"
        else:
            body = f"\tu32 count;\n\t{self.c_type(t.elem)} *elems;\n"
        return f"#ifndef {guard}\n#define {guard}\nstruct {name} {{\n{body}}};\n#endif\n"

    def _struct_decl(self, s: ast.Struct) -> str:
        n = self._cname(s)
        lines = [f"struct {n} {{"]
        for f in s.fields:
            lines.append(f"\t{self.c_type(f.type)} {self.member(s, f)};")
        if s.fields:
            lines.append("\tstruct {")
            for f in s.fields:
                lines.append(f"\t\tbool {self.member(s, f)};")
            lines.append("\t} isset;")
        lines.append("};")
        lines.append("")
        lines.append(f"void {n}_init(struct {n} *v);")
        lines.append(f"int {n}_encode(struct kg_writer *w, const struct {n} *v);")
        lines.append(f"int {n}_decode(struct kg_reader *r, struct {n} *v);")
        return "\n".join(lines) + "\n"

    def _enc(self, t, e: str, depth: int, out: list[str], ind: str):
        t = self.true(t)
        if isinstance(t, ast.BaseType):
            if t.name == "uuid":
                out.append(f"{ind}kg_write_uuid(w, {e}.b);")
            else:
                out.append(f"{ind}kg_write_{RW[t.name]}(w, {e});")
        elif isinstance(t, ast.Enum):
            out.append(f"{ind}kg_write_i32(w, {e});")
        elif isinstance(t, ast.Struct):
            out.append(f"{ind}{self._cname(t)}_encode(w, &{e});")
        else:
            i = f"i{depth}"
            self._maxdepth = max(self._maxdepth, depth + 1)
            if isinstance(t, ast.MapType):
                out.append(f"{ind}kg_write_map_begin(w, {self.ttype(t.key)}, {self.ttype(t.value)}, {e}.count);")
                out.append(f"{ind}for ({i} = 0; {i} < {e}.count; {i}++) {{")
                self._enc(t.key, f"{e}.entries[{i}].key", depth + 1, out, ind + "\t")
                self._enc(t.value, f"{e}.entries[{i}].value", depth + 1, out, ind + "\t")
                out.append(f"{ind}}}")
                out.append(f"{ind}kg_write_map_end(w);")
            else:
                kind = "list" if isinstance(t, ast.ListType) else "set"
                out.append(f"{ind}kg_write_{kind}_begin(w, {self.ttype(t.elem)}, {e}.count);")
                out.append(f"{ind}for ({i} = 0; {i} < {e}.count; {i}++)")
                inner: list[str] = []
                self._enc(t.elem, f"{e}.elems[{i}]", depth + 1, inner, ind + "\t")
                if len(inner) > 1:
                    out[-1] += " {"
                    out.extend(inner)
                    out.append(f"{ind}}}")
                else:
                    out.extend(inner)
                out.append(f"{ind}kg_write_{kind}_end(w);")

    def _dec(self, t, e: str, depth: int, out: list[str], ind: str):
        t = self.true(t)
        chk = f"{ind}if (ret)\n{ind}\treturn ret;"
        if isinstance(t, ast.BaseType):
            if t.name == "uuid":
                out.append(f"{ind}ret = kg_read_uuid(r, {e}.b);")
            elif t.name in ("string", "binary"):
                out.append(f"{ind}ret = kg_read_{'string' if t.name == 'string' else 'binary'}(r, &{e});")
            else:
                out.append(f"{ind}ret = kg_read_{RW[t.name]}(r, &{e});")
            out.append(chk)
        elif isinstance(t, ast.Enum):
            out.append(f"{ind}ret = kg_read_i32(r, &{e});")
            out.append(chk)
        elif isinstance(t, ast.Struct):
            out.append(f"{ind}ret = {self._cname(t)}_decode(r, &{e});")
            out.append(chk)
        else:
            i = f"i{depth}"
            self._maxdepth = max(self._maxdepth, depth + 1)
            self._need_types = True
            if isinstance(t, ast.MapType):
                out.append(f"{ind}ret = kg_read_map_begin(r, &kt, &vt, &{e}.count);")
                out.append(chk)
                out.append(f"{ind}if ({e}.count && (kt != {self.ttype(t.key)} || vt != {self.ttype(t.value)}))")
                out.append(f"{ind}\treturn -EBADMSG;")
                out.append(f"{ind}{e}.entries = kg_read_alloc(r, {e}.count, sizeof(*{e}.entries));")
                out.append(f"{ind}if ({e}.count && !{e}.entries)")
                out.append(f"{ind}\treturn -ENOMEM;")
                out.append(f"{ind}for ({i} = 0; {i} < {e}.count; {i}++) {{")
                self._dec(t.key, f"{e}.entries[{i}].key", depth + 1, out, ind + "\t")
                self._dec(t.value, f"{e}.entries[{i}].value", depth + 1, out, ind + "\t")
                out.append(f"{ind}}}")
                out.append(f"{ind}ret = kg_read_map_end(r);")
                out.append(chk)
            else:
                kind = "list" if isinstance(t, ast.ListType) else "set"
                out.append(f"{ind}ret = kg_read_{kind}_begin(r, &et, &{e}.count);")
                out.append(chk)
                out.append(f"{ind}if ({e}.count && et != {self.ttype(t.elem)})")
                out.append(f"{ind}\treturn -EBADMSG;")
                out.append(f"{ind}{e}.elems = kg_read_alloc(r, {e}.count, sizeof(*{e}.elems));")
                out.append(f"{ind}if ({e}.count && !{e}.elems)")
                out.append(f"{ind}\treturn -ENOMEM;")
                out.append(f"{ind}for ({i} = 0; {i} < {e}.count; {i}++) {{")
                self._dec(t.elem, f"{e}.elems[{i}]", depth + 1, out, ind + "\t")
                out.append(f"{ind}}}")
                out.append(f"{ind}ret = kg_read_{kind}_end(r);")
                out.append(chk)

    def _struct_defs(self, s: ast.Struct) -> str:
        n = self._cname(s)
        L = [f"void {n}_init(struct {n} *v)", "{", "\tmemset(v, 0, sizeof(*v));", "}", ""]
        # encode
        self._maxdepth = 0
        body: list[str] = ["\tkg_write_struct_begin(w);"]
        for f in s.fields:
            m = self.member(s, f)
            ind = "\t"
            if f.requiredness != ast.REQUIRED:
                body.append(f"\tif (v->isset.{m}) {{")
                ind = "\t\t"
            body.append(f"{ind}kg_write_field_begin(w, {self.ttype(f.type)}, {f.id});")
            self._enc(f.type, f"v->{m}", 0, body, ind)
            body.append(f"{ind}kg_write_field_end(w);")
            if ind == "\t\t":
                body.append("\t}")
        body += ["\tkg_write_field_stop(w);", "\tkg_write_struct_end(w);", "\treturn w->err;"]
        L += [f"int {n}_encode(struct kg_writer *w, const struct {n} *v)", "{"]
        if self._maxdepth:
            L.append("\tu32 " + ", ".join(f"i{d}" for d in range(self._maxdepth)) + ";")
            L.append("")
        L += body + ["}", ""]
        # decode
        self._maxdepth = 0
        self._need_types = False
        body = ["\tret = kg_read_struct_begin(r);", "\tif (ret)", "\t\treturn ret;", "\tfor (;;) {",
                "\t\tret = kg_read_field_begin(r, &ft, &fid);", "\t\tif (ret)", "\t\t\treturn ret;",
                "\t\tif (ft == KG_T_STOP)", "\t\t\tbreak;", "\t\tswitch (fid) {"]
        for f in s.fields:
            m = self.member(s, f)
            body.append(f"\t\tcase {f.id}:")
            body.append(f"\t\t\tif (ft != {self.ttype(f.type)}) {{")
            body.append("\t\t\t\tret = kg_skip(r, ft);")
            body.append("\t\t\t\tif (ret)")
            body.append("\t\t\t\t\treturn ret;")
            body.append("\t\t\t\tbreak;")
            body.append("\t\t\t}")
            self._dec(f.type, f"v->{m}", 0, body, "\t\t\t")
            body.append(f"\t\t\tv->isset.{m} = true;")
            body.append("\t\t\tbreak;")
        body += ["\t\tdefault:", "\t\t\tret = kg_skip(r, ft);", "\t\t\tif (ret)", "\t\t\t\treturn ret;",
                 "\t\t}", "\t\tret = kg_read_field_end(r);", "\t\tif (ret)", "\t\t\treturn ret;", "\t}"]
        for f in s.fields:
            if f.requiredness == ast.REQUIRED:
                body += [f"\tif (!v->isset.{self.member(s, f)})", "\t\treturn -EBADMSG;"]
        body += ["\treturn kg_read_struct_end(r);"]
        L += [f"int {n}_decode(struct kg_reader *r, struct {n} *v)", "{"]
        decls = ["\tu8 ft;", "\ts16 fid;"]
        if self._need_types:
            decls.append("\tu8 et __maybe_unused, kt __maybe_unused, vt __maybe_unused;")
        if self._maxdepth:
            decls.append("\tu32 " + ", ".join(f"i{d}" for d in range(self._maxdepth)) + ";")
        decls.append("\tint ret;")
        L += decls + [""] + body + ["}", ""]
        return "\n".join(L)

    def types_files(self, program: ast.Program) -> dict[str, str]:
        from . import render

        p = file_prefix(program)
        structs = self._ordered_structs(program)
        decl, defs = self.render_structs(structs)
        incs = "".join(f'#include "{file_prefix(i.program)}_types.h"\n' for i in program.includes
                       if i.program is not None)
        enums = []
        for e in program.enums:
            vals = "".join(f"\t{p.upper()}_{snake(e.name).upper()}_{v.name.upper()} = {v.value},\n"
                           for v in e.values)
            enums.append(f"enum {p}_{snake(e.name)} {{\n{vals}}};\n")
        guard = f"_{p.upper()}_TYPES_H"
        b = render.banner(Path(program.path).name)
        h = (f"/* SPDX-License-Identifier: GPL-2.0 */\n/*\n * {b}\n */\n#ifndef {guard}\n"
             f"#define {guard}\n\n#include <kgen/proto.h>\n{incs}\n"
             "#ifndef KG_UUID_DEFINED\n#define KG_UUID_DEFINED\nstruct kg_uuid {\n\tu8 b[16];\n};\n#endif\n\n"
             + "\n".join(enums) + ("\n" if enums else "") + decl + f"\n#endif /* {guard} */\n")
        c = (f"// SPDX-License-Identifier: GPL-2.0\n/*\n * {b}\n */\n#include \"{p}_types.h\"\n\n"
             + defs).rstrip("\n") + "\n"
        return {f"{p}_types.h": h, f"{p}_types.c": c}

    def _ordered_structs(self, program):
        out, seen = [], set()

        def visit(s):
            if id(s) in seen or s.program is not program:
                return
            seen.add(id(s))
            for f in s.fields:
                for d in self._deps(f.type):
                    visit(d)
            out.append(s)

        for s in program.structs:
            visit(s)
        return out

    def _deps(self, t):
        t = self.true(t)
        if isinstance(t, ast.Struct):
            return [t]
        return []
