"""Lowering of a resolved Thrift AST to a small C model (the types half).

Templates print what this module computes: every C name, C type, wire type id,
initializer and limit is decided here, so templates hold only loops and
conditions.  The service half builds its args/result structs on the same model
(service.py lowers them with `ProgramModel.struct_model(..., cname=...)`).

Model API (names are stable; the service generator relies on them)
-------------------------------------------------------------------

`TypesLowering(names).program(program)` (one model per program and module) gives, for one `.thrift` file:

* `prefix`        C prefix of the file (`naming.file_prefix`: `ThriftTest` -> `thrift_test`)
* `types_h`, `types_c`  file names (`thrift_test_types.h`)
* `enums`, `consts`, `typedefs`, `structs` (structs, unions, exceptions), each a
  model object below, in source order; `includes`: the included ProgramModels.
* `ctype(t, owner=...)` -> `CType` for any AST type (typedef chains followed).
* `struct_model(ast_struct, cname=None)` -> `StructModel` (synthesized structs,
  e.g. service args/results, get the C name passed in).

`CType` (one Thrift type in C):
  kind   bool byte i16 i32 i64 double string binary uuid enum struct list set map
  c      the C type: `bool s8 s16 s32 s64`, `u64` (double: IEEE-754 bits, no FPU in
         the kernel), `struct kg_bytes` (string/binary: zero-copy view), `struct kg_uuid`
         (`{ u8 b[16]; }`), `s32` (enum), `struct <prefix>_<name>`, containers
         `struct kg_list_<elem>` / `kg_set_<elem>` (`{ u32 count; T *elems; }`) and
         `kg_map_<k>_<v>` (`{ u32 count; struct kg_map_<k>_<v>_entry *entries; }`,
         entries `{ K key; V value; }`); containers come from the message arena on decode.
  ttype  wire type id (`KG_T_I32`...)
  cat    scalar | bytes | uuid | struct | container: how it is read and written
  read_fn / write_fn  (scalar, bytes) the kg_read_* / kg_write_* function
  encode_fn / decode_fn  (struct, container) the generated function
  container  a `Container` for list/set/map

`StructModel`: `cname`, `c` (`struct <cname>`), `kind`, `is_union`, `fields`,
`init_fn`, `encode_fn`, `decode_fn`, `size_fn`, doc.  Signatures:
  void <c>_init(struct <c> *v);                       zero + defaults
  int <c>_encode(struct kg_writer *w, const struct <c> *v);   returns w->err
  int <c>_decode(struct kg_reader *r, struct <c> *v);  0 or -errno
  size_t <c>_encoded_size(const struct <c> *v, u8 proto);

`FieldModel`: `id`, `name` (IDL), `member` (C), `ctype`, `requiredness`,
`pointer` (recursive or `&` reference fields are `struct x *`), `isset`
(every field has `v->isset.<member>`), `max_len`, `max_items` (from
`kgen.max_len` / `kgen.max_items` annotations on the field or its type/typedef;
None: only the reader's `kg_limits` apply), `default` (C initializer or None).

Naming: kernel style lower_snake_case prefixed by the file prefix; C keywords
and kernel macro names get a `_` suffix; names that collapse to the same C name
get `_2`, `_3`... in source order (deterministic).  Enum constants and integer
constants are upper case (`THRIFT_TEST_NUMBERZ_FIVE`, `#define`s); string,
binary, uuid, struct and container constants are `const` data in the .c file
(`extern` in the .h).  Container types are named structurally (`kg_list_i32`,
`kg_map_string_thrift_test_bonk`) and guarded, so one C type serves every file
that uses the same container; their encoders/decoders are `static` in each .c.

Semantics the templates implement:

* isset: decode sets `isset.<m>` for every field it read; encode writes required
  fields always, optional and default-requiredness fields only when isset (so
  "unset" travels as absent, as with Apache's C++ `__isset` for optional fields).
  `init` applies IDL defaults; a default marks the field set unless it is optional.
* decode: `init` first; a field of an unexpected wire type is skipped (kg_skip);
  a container whose element types differ from ours (at any depth) is consumed
  and the field left unset (no rewind, no second pass; decode frames stay small
  because recursion depth is bounded only by limits->max_depth); unknown
  fields are skipped; a missing required field or a second union member is
  -EBADMSG; every failure returns at once.  Nesting is bounded by
  kg_read_struct_begin (reader depth); recursion happens only through pointer
  fields and containers, allocated from the reader's arena (checked: -ENOMEM).
* limits: `kgen.max_len` bounds every string/binary, `kgen.max_items` every
  list/set/map, at any depth inside the annotated field (-EMSGSIZE); without an
  annotation the reader's `struct kg_limits` (max_string, max_container) apply.
* unions are structs whose fields are all optional; encode refuses (w->err =
  -EINVAL) a union with more than one member set.
"""

from __future__ import annotations

import re
import struct as _struct
from dataclasses import dataclass, field
from pathlib import Path

from ..cstring import c_string_literal
from ..frontend import ast
from .naming import RESERVED_MEMBERS, TAG, NameTable, file_prefix, snake
from .render import comment_text, kdoc_oneline

# ---------------------------------------------------------------------------
# Types
# ---------------------------------------------------------------------------

BASE = {
    # kind: (C type, ttype, cat, read fn, write fn, mangle)
    "bool": ("bool", "KG_T_BOOL", "scalar", "kg_read_bool", "kg_write_bool", "bool"),
    "byte": ("s8", "KG_T_BYTE", "scalar", "kg_read_byte", "kg_write_byte", "i8"),
    "i8": ("s8", "KG_T_BYTE", "scalar", "kg_read_byte", "kg_write_byte", "i8"),
    "i16": ("s16", "KG_T_I16", "scalar", "kg_read_i16", "kg_write_i16", "i16"),
    "i32": ("s32", "KG_T_I32", "scalar", "kg_read_i32", "kg_write_i32", "i32"),
    "i64": ("s64", "KG_T_I64", "scalar", "kg_read_i64", "kg_write_i64", "i64"),
    "double": ("u64", "KG_T_DOUBLE", "scalar", "kg_read_double", "kg_write_double", "double"),
    "string": ("struct kg_bytes", "KG_T_STRING", "bytes", "kg_read_string", "kg_write_bytes", "string"),
    "binary": ("struct kg_bytes", "KG_T_STRING", "bytes", "kg_read_binary", "kg_write_bytes", "binary"),
    "uuid": ("struct kg_uuid", "KG_T_UUID", "uuid", "kg_read_uuid", "kg_write_uuid", "uuid"),
}

MAX_CNAME = 72

# Compact protocol type ids of the types a decoder reads in order (not bool: its value
# is in the field header).
COMPACT_TYPES = {"KG_T_BYTE": 3, "KG_T_I16": 4, "KG_T_I32": 5, "KG_T_I64": 6, "KG_T_DOUBLE": 7,
                 "KG_T_STRING": 8}

# What a struct's name is claimed with: the type and its functions.
STRUCT_DERIVED = (TAG, "_init", "_encode", "_decode", "_encoded_size", "_encode_binary",
                  "_encode_compact", "_decode_binary", "_decode_compact")


@dataclass(eq=False)
class Container:
    kind: str  # list / set / map
    cname: str  # kg_list_i32
    guard: str
    elem: "CType | None" = None
    key: "CType | None" = None
    value: "CType | None" = None
    entry: str = ""  # map: struct name of one entry
    entry_guard: str = ""
    takes_max_len: bool = False  # a string/binary inside (the decoder takes max_len)
    begin_read: str = ""
    end_read: str = ""
    begin_write: str = ""
    end_write: str = ""

    @property
    def c(self) -> str:
        return f"struct {self.cname}"

    @property
    def encode_fn(self) -> str:
        return f"{self.cname}_encode"

    @property
    def decode_fn(self) -> str:
        return f"{self.cname}_decode"

    def children(self) -> list["CType"]:
        return [t for t in (self.elem, self.key, self.value) if t is not None]


@dataclass(eq=False)
class CType:
    kind: str
    c: str
    ttype: str
    cat: str
    mangle: str
    read_fn: str = ""
    write_fn: str = ""
    encode_fn: str = ""
    decode_fn: str = ""
    container: Container | None = None
    struct: ast.Struct | None = None  # kind struct: the AST struct
    enum: ast.Enum | None = None

    @property
    def takes_max_len(self) -> bool:
        return self.cat == "bytes" or (self.container is not None and self.container.takes_max_len)


@dataclass(eq=False)
class FieldModel:
    id: int
    name: str
    member: str
    ctype: CType
    requiredness: str
    pointer: bool
    max_len: int | None
    max_items: int | None
    default: str | None  # C expression assigned by init (compound literal for aggregates)
    default_isset: bool
    doc: str
    ast: ast.Field

    @property
    def required(self) -> bool:
        return self.requiredness == ast.REQUIRED

    @property
    def decl(self) -> str:
        return f"{self.ctype.c} *{self.member}" if self.pointer else f"{self.ctype.c} {self.member}"

    # Limits as C arguments of a container decoder (0: the reader's limits only).
    @property
    def items_arg(self) -> str:
        return str(self.max_items or 0)

    @property
    def len_arg(self) -> str:
        return str(self.max_len or 0)


@dataclass(eq=False)
class StructModel:
    ast: ast.Struct
    cname: str
    kind: str
    fields: list[FieldModel] = field(default_factory=list)
    doc_summary: str = ""
    doc: list[str] = field(default_factory=list)
    program: "ProgramModel | None" = None
    # The template variant: "struct", or "message" for an args/result struct (its encoder
    # is a kg_encode_fn: C/struct/encode/message.j2).
    variant: str = "struct"

    @property
    def c(self) -> str:
        return f"struct {self.cname}"

    @property
    def is_union(self) -> bool:
        return self.kind == ast.UNION

    @property
    def init_fn(self) -> str:
        return f"{self.cname}_init"

    @property
    def encode_fn(self) -> str:
        return f"{self.cname}_encode"

    @property
    def decode_fn(self) -> str:
        return f"{self.cname}_decode"

    @property
    def size_fn(self) -> str:
        return f"{self.cname}_encoded_size"

    @property
    def in_order_fields(self) -> list[FieldModel]:
        """The leading scalar and string fields, which the binary decoder first reads in
        declaration order (the order every encoder writes them), one header compare each."""
        if self.is_union:
            return []
        run = []
        for f in self.fields:
            if f.ctype.cat not in ("scalar", "bytes") or f.pointer:
                break
            run.append(f)
        return run

    @property
    def in_order_compact(self) -> list[tuple[FieldModel, str]]:
        """in_order_fields for the compact decoder, with each one's header byte (the
        short form: id delta << 4 | compact type); it stops at a bool (its value is in
        the header) and at a delta the short form cannot hold."""
        run, last = [], 0
        for f in self.in_order_fields:
            ct = COMPACT_TYPES.get(f.ctype.ttype)
            if ct is None or not 1 <= f.id - last <= 15:
                break
            run.append((f, f"0x{((f.id - last) << 4) | ct:02x}"))
            last = f.id
        return run


@dataclass(eq=False)
class EnumValueModel:
    name: str  # as in the IDL
    cname: str  # THRIFT_TEST_NUMBERZ_ONE
    value: int
    doc: str
    unique: bool  # first name for its value (the name function's case label)


@dataclass(eq=False)
class EnumModel:
    ast: ast.Enum
    cname: str  # thrift_test_numberz (enum tag)
    name_fn: str
    values: list[EnumValueModel]
    doc_summary: str
    doc: list[str]


@dataclass(eq=False)
class ConstModel:
    ast: ast.Const
    cname: str
    ctype: CType
    define: str | None  # scalar: the #define value
    comment: str  # e.g. the double's decimal value
    init: str | None  # data: the static initializer
    doc_summary: str = ""


@dataclass(eq=False)
class TypedefModel:
    ast: ast.Typedef
    cname: str  # thrift_test_user_id_t
    ctype: CType
    doc_summary: str = ""


class StaticSink:
    """Static data (backing arrays of constants and defaults) for one .c file."""

    def __init__(self, base: str, names: "NameTable | None" = None):
        self.base = base
        self.names = names
        self.defs: list[str] = []
        self.n = 0

    def add(self, c_decl: str, suffix: str, init: str) -> str:
        self.n += 1
        name = f"{self.base}_data_{self.n}"
        if self.names is not None:
            name = self.names.claim(name)
        self.defs.append(f"static const {c_decl.replace('@', name)} = {init};")
        return name


# ---------------------------------------------------------------------------
# Constant values -> C initializers
# ---------------------------------------------------------------------------


def c_int(v: int, kind: str) -> str:
    v = int(v)
    if kind == "i64":
        if v == -(1 << 63):
            return "(-9223372036854775807LL - 1)"
        if -(1 << 31) <= v < (1 << 31):
            return str(v) if v >= 0 else f"({v})"
        return f"{v}LL" if v >= 0 else f"({v}LL)"
    if v == -(1 << 31):
        return "(-2147483647 - 1)"
    return str(v) if v >= 0 else f"({v})"


def double_bits(v: float) -> int:
    return _struct.unpack("<Q", _struct.pack("<d", float(v)))[0]


def _to_bytes(v) -> bytes:
    if isinstance(v, bytes):
        return v
    return str(v).encode("utf-8")


def _uuid_bytes(v) -> bytes:
    if isinstance(v, bytes) and len(v) == 16:
        return v
    h = re.sub(r"[^0-9a-fA-F]", "", str(v))
    return bytes.fromhex(h.ljust(32, "0")[:32])


def evaluate(cv: ast.ConstValue | None):
    """Fallback evaluation of a raw constant (the resolver normally did it)."""
    if cv is None:
        return None
    if isinstance(cv, (ast.ConstInt, ast.ConstDouble, ast.ConstString)):
        return cv.value
    if isinstance(cv, ast.ConstList):
        return [evaluate(x) for x in cv.items]
    if isinstance(cv, ast.ConstMap):
        return {hashable(evaluate(k)): evaluate(v) for k, v in cv.items}
    if isinstance(cv, ast.ConstRef):
        t = cv.target
        if isinstance(t, ast.EnumValue):
            return t.value
        if isinstance(t, ast.Const):
            return t.evaluated if t.evaluated is not None else evaluate(t.value)
    return None


# ---------------------------------------------------------------------------
# Annotations
# ---------------------------------------------------------------------------


def _ann_int(anns: list[ast.Annotation], name: str) -> int | None:
    for a in anns or []:
        if a.name == name and a.value is not None:
            try:
                v = int(str(a.value).strip(), 0)
            except ValueError:
                return None
            return v if v > 0 else None
    return None


def type_limit(t: ast.Type, name: str) -> int | None:
    """A limit annotated on the type or along its typedef chain (nearest wins)."""
    seen = 0
    while seen < 100:
        seen += 1
        v = _ann_int(getattr(t, "annotations", []), name)
        if v is not None:
            return v
        if isinstance(t, ast.TypeRef) and isinstance(t.target, ast.Typedef):
            v = _ann_int(t.target.annotations, name)
            if v is not None:
                return v
            t = t.target.type
            continue
        return None
    return None


# ---------------------------------------------------------------------------
# Programs
# ---------------------------------------------------------------------------


def _doc_summary(doc: str | None, fallback: str) -> str:
    return kdoc_oneline(doc, fallback)


def _doc_lines(doc: str | None) -> list[str]:
    if not doc or "\n" not in doc.strip():
        return []
    return comment_text(doc)


class TypesLowering:
    """Lowers the programs of one module; every C name goes through `names`, the module's table."""

    def __init__(self, names: NameTable | None = None):
        self.names = names if names is not None else NameTable()
        self._programs: dict[int, ProgramModel] = {}  # by id(); each model holds its program

    def program(self, program: ast.Program) -> "ProgramModel":
        pm = self._programs.get(id(program))
        if pm is None:
            pm = ProgramModel(program, self)
            self._programs[id(program)] = pm
            pm._lower()
        return pm


class ProgramModel:
    """The C model of one program; build with `TypesLowering.program(program)`."""

    @classmethod
    def of(cls, program: ast.Program) -> "ProgramModel":
        """The model of a program lowered on its own (tests of the types half)."""
        return TypesLowering().program(program)

    def __init__(self, program: ast.Program, lowering: TypesLowering):
        self.ast = program
        self.lowering = lowering
        self.prefix = file_prefix(program)
        self.source = Path(program.path).name
        self.types_h = f"{self.prefix}_types.h"
        self.types_c = f"{self.prefix}_types.c"
        self.guard = f"_{self.prefix.upper()}_TYPES_H"
        self.names = lowering.names
        self.struct_names: dict[int, str] = {}
        self.enum_names: dict[int, str] = {}
        self.includes: list[ProgramModel] = []
        self.enums: list[EnumModel] = []
        self.consts: list[ConstModel] = []
        self.typedefs: list[TypedefModel] = []
        self.structs: list[StructModel] = []
        self._struct_models: dict[int, StructModel] = {}
        self._pointer_edges: set[tuple[int, int]] = set()
        self.statics = StaticSink(f"{self.prefix}", self.names)

    def _of(self, program: ast.Program) -> "ProgramModel":
        return self.lowering.program(program)

    # -- lowering --------------------------------------------------------------

    def _lower(self) -> None:
        p = self.ast
        for inc in p.includes:
            if inc.program is not None:
                self.includes.append(self._of(inc.program))
        # 1. names, in source order
        for d in p.definitions:
            base = f"{self.prefix}_{snake(d.name)}"
            if isinstance(d, ast.Struct):
                self.struct_names[id(d)] = self.names.claim(
                    base, STRUCT_DERIVED, what=f"{d.kind} {d.name}", loc=d.loc)
            elif isinstance(d, ast.Enum):
                self.enum_names[id(d)] = self.names.claim(base, (TAG, "_name"),
                                                          what=f"enum {d.name}", loc=d.loc)
        self._find_recursion()
        # 2. models
        for d in p.definitions:
            if isinstance(d, ast.Enum):
                self.enums.append(self._enum(d))
        for d in p.definitions:
            if isinstance(d, ast.Struct):
                self.structs.append(self.struct_model(d))
        for d in p.definitions:
            if isinstance(d, ast.Typedef):
                ct = self.ctype(d.type)
                cname = self.names.claim(f"{self.prefix}_{snake(d.name)}", ("_t",),
                                         what=f"typedef {d.name}", loc=d.loc) + "_t"
                self.typedefs.append(TypedefModel(ast=d, cname=cname, ctype=ct,
                                                  doc_summary=_doc_summary(d.doc, f"typedef {d.name}")))
            elif isinstance(d, ast.Const):
                self.consts.append(self._const(d))

    def _enum(self, e: ast.Enum) -> EnumModel:
        cname = self.enum_names[id(e)]
        seen: set[int] = set()
        vals = []
        for v in e.values:
            n = self.names.claim(f"{cname}_{snake(v.name)}".upper(), upper=True,
                                 what=f"enum value {e.name}.{v.name}", loc=v.loc or e.loc).upper()
            vals.append(EnumValueModel(name=v.name, cname=n, value=v.value, doc=_doc_summary(v.doc, ""),
                                       unique=v.value not in seen))
            seen.add(v.value)
        return EnumModel(ast=e, cname=cname, name_fn=f"{cname}_name", values=vals,
                         doc_summary=_doc_summary(e.doc, f"values of Thrift enum {e.name}"),
                         doc=_doc_lines(e.doc))

    def _find_recursion(self) -> None:
        """Struct fields held by value that would make a struct contain itself
        become pointers: every by-value edge inside a strongly connected component."""
        structs = self.ast.structs
        idx = {id(s): s for s in structs}
        edges: dict[int, list[int]] = {id(s): [] for s in structs}
        for s in structs:
            for f in s.fields:
                t = ast.true_type(f.type)
                if isinstance(t, ast.Struct) and id(t) in idx and not f.reference:
                    edges[id(s)].append(id(t))
        # Tarjan
        index: dict[int, int] = {}
        low: dict[int, int] = {}
        stack: list[int] = []
        on: set[int] = set()
        comp: dict[int, int] = {}
        counter = [0]

        def strong(v: int) -> None:
            index[v] = low[v] = counter[0]
            counter[0] += 1
            stack.append(v)
            on.add(v)
            for w in edges[v]:
                if w not in index:
                    strong(w)
                    low[v] = min(low[v], low[w])
                elif w in on:
                    low[v] = min(low[v], index[w])
            if low[v] == index[v]:
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp[w] = v
                    if w == v:
                        break

        import sys

        old = sys.getrecursionlimit()
        sys.setrecursionlimit(max(old, 10000))
        try:
            for s in structs:
                if id(s) not in index:
                    strong(id(s))
        finally:
            sys.setrecursionlimit(old)
        for v, ws in edges.items():
            for w in ws:
                if comp[v] == comp[w]:
                    self._pointer_edges.add((v, w))

    # -- types -------------------------------------------------------------------

    def struct_cname(self, s: ast.Struct) -> str:
        prog = s.program
        if prog is None or prog is self.ast:
            if id(s) not in self.struct_names:  # synthesized without a name
                self.struct_names[id(s)] = self.names.claim(f"{self.prefix}_{snake(s.name)}")
            return self.struct_names[id(s)]
        return self._of(prog).struct_cname(s)

    def ctype(self, t: ast.Type) -> CType:
        tt = ast.true_type(t)
        if isinstance(tt, ast.BaseType):
            c, ttype, cat, rf, wf, mangle = BASE[tt.name]
            return CType(kind=tt.name if tt.name != "byte" else "i8", c=c, ttype=ttype, cat=cat,
                         mangle=mangle, read_fn=rf, write_fn=wf)
        if isinstance(tt, ast.Enum):
            return CType(kind="enum", c="s32", ttype="KG_T_I32", cat="scalar", mangle="i32",
                         read_fn="kg_read_i32", write_fn="kg_write_i32", enum=tt)
        if isinstance(tt, ast.Struct):
            cn = self.struct_cname(tt)
            return CType(kind="struct", c=f"struct {cn}", ttype="KG_T_STRUCT", cat="struct", mangle=cn,
                         encode_fn=f"{cn}_encode", decode_fn=f"{cn}_decode", struct=tt)
        if isinstance(tt, (ast.ListType, ast.SetType)):
            kind = "list" if isinstance(tt, ast.ListType) else "set"
            elem = self.ctype(tt.elem)
            mangle = f"{kind}_{elem.mangle}"
            cname = _container_name(mangle)
            cont = Container(kind=kind, cname=cname, guard=f"KG_CONTAINER_{cname.upper()}", elem=elem,
                             takes_max_len=elem.takes_max_len,
                             begin_read=f"kg_read_{kind}_begin", end_read=f"kg_read_{kind}_end",
                             begin_write=f"kg_write_{kind}_begin", end_write=f"kg_write_{kind}_end")
            return CType(kind=kind, c=cont.c, ttype=f"KG_T_{kind.upper()}", cat="container", mangle=mangle,
                         encode_fn=cont.encode_fn, decode_fn=cont.decode_fn, container=cont)
        if isinstance(tt, ast.MapType):
            k = self.ctype(tt.key)
            v = self.ctype(tt.value)
            mangle = f"map_{k.mangle}_{v.mangle}"
            cname = _container_name(mangle)
            cont = Container(kind="map", cname=cname, guard=f"KG_CONTAINER_{cname.upper()}", key=k, value=v,
                             entry=f"{cname}_entry", entry_guard=f"KG_CONTAINER_{cname.upper()}_ENTRY",
                             takes_max_len=k.takes_max_len or v.takes_max_len,
                             begin_read="kg_read_map_begin", end_read="kg_read_map_end",
                             begin_write="kg_write_map_begin", end_write="kg_write_map_end")
            return CType(kind="map", c=cont.c, ttype="KG_T_MAP", cat="container", mangle=mangle,
                         encode_fn=cont.encode_fn, decode_fn=cont.decode_fn, container=cont)
        raise ValueError(f"cannot lower type {tt!r}")

    # -- structs -------------------------------------------------------------------

    def struct_model(self, s: ast.Struct, cname: str | None = None,
                     sink: StaticSink | None = None) -> StructModel:
        """The model of `s`; a synthesized struct (args/result) gets `cname`, the name its
        service claimed, and is not kept here (its service holds it)."""
        key = id(s)
        if cname is None and key in self._struct_models:
            return self._struct_models[key]
        cn = cname or self.struct_cname(s)
        sink = sink or self.statics
        sm = StructModel(ast=s, cname=cn, kind=s.kind, program=self,
                         variant="message" if cname else "struct",
                         doc_summary=_doc_summary(s.doc, f"Thrift {s.kind} {s.name}"),
                         doc=_doc_lines(s.doc))
        if cname is None:
            self._struct_models[key] = sm
        members = NameTable.scope(RESERVED_MEMBERS)
        for f in s.fields:
            ct = self.ctype(f.type)
            member = members.claim(snake(f.name), what=f"field {s.name}.{f.name}", loc=f.loc)
            self.names.warnings.extend(members.warnings)
            members.warnings.clear()
            tt = ast.true_type(f.type)
            pointer = ct.cat == "struct" and (f.reference or (id(s), id(tt)) in self._pointer_edges)
            req = f.requiredness
            if s.kind == ast.UNION:
                req = ast.OPTIONAL
            fm = FieldModel(
                id=f.id, name=f.name, member=member, ctype=ct, requiredness=req, pointer=pointer,
                max_len=_ann_int(f.annotations, "kgen.max_len") or type_limit(f.type, "kgen.max_len"),
                max_items=_ann_int(f.annotations, "kgen.max_items") or type_limit(f.type, "kgen.max_items"),
                default=None, default_isset=False,
                doc=_doc_summary(f.doc, f"field {f.id}: {f.name}"), ast=f,
            )
            if ct.cat != "container":
                fm.max_items = None
            if not ct.takes_max_len:
                fm.max_len = None
            value = f.default_evaluated if f.default_evaluated is not None else evaluate(f.default)
            if value is not None:
                init = self.initializer(ct, value, sink)
                if pointer:
                    obj = sink.add(f"{ct.c} @", "", init)
                    fm.default = f"({ct.c} *)&{obj}"
                elif ct.cat in ("scalar",):
                    fm.default = init
                else:
                    fm.default = f"({ct.c}){init}"
                fm.default_isset = req != ast.OPTIONAL
            sm.fields.append(fm)
        return sm

    # -- constants ---------------------------------------------------------------

    def initializer(self, ct: CType, value, sink: StaticSink) -> str:
        """A C initializer (constant expression) for `value` of type `ct`."""
        k = ct.kind
        if k == "bool":
            return "true" if value else "false"
        if k in ("i8", "i16", "i32", "enum"):
            return c_int(int(value), "i32")
        if k == "i64":
            return c_int(int(value), "i64")
        if k == "double":
            return f"0x{double_bits(value):016x}ULL"
        if ct.cat == "bytes":
            b = _to_bytes(value)
            return f"{{ .data = (const u8 *){c_string_literal(b)}, .len = {len(b)} }}"
        if k == "uuid":
            b = _uuid_bytes(value)
            return "{ .b = { " + ", ".join(f"0x{x:02x}" for x in b) + " } }"
        if k == "struct":
            sm = self._model_for(ct.struct)
            given = value if isinstance(value, dict) else {}
            parts, isset = [], []
            for fm in sm.fields:
                if fm.name in given:
                    v = given[fm.name]
                    init = self.initializer(fm.ctype, v, sink)
                    is_set = True
                elif fm.default is not None:
                    dv = fm.ast.default_evaluated if fm.ast.default_evaluated is not None \
                        else evaluate(fm.ast.default)
                    init = self.initializer(fm.ctype, dv, sink)
                    is_set = fm.default_isset
                else:
                    continue
                if fm.pointer:
                    obj = sink.add(f"{fm.ctype.c} @", "", init)
                    init = f"({fm.ctype.c} *)&{obj}"
                parts.append(f".{fm.member} = {init}")
                if is_set:
                    isset.append(f".{fm.member} = true")
            if isset:
                parts.append(".isset = { " + ", ".join(isset) + " }")
            return "{ " + ", ".join(parts) + " }" if parts else "{ }"
        cont = ct.container
        assert cont is not None
        if cont.kind in ("list", "set"):
            items = list(value) if value is not None else []
            if not items:
                return "{ .count = 0, .elems = NULL }"
            inits = [self.initializer(cont.elem, x, sink) for x in items]
            arr = sink.add(f"{cont.elem.c} @[{len(inits)}]", "", "{ " + ", ".join(inits) + " }")
            return f"{{ .count = {len(inits)}, .elems = ({cont.elem.c} *){arr} }}"
        pairs = list(value.items()) if isinstance(value, dict) else list(value or [])
        if not pairs:
            return "{ .count = 0, .entries = NULL }"
        inits = [f"{{ .key = {self.initializer(cont.key, kk, sink)}, "
                 f".value = {self.initializer(cont.value, vv, sink)} }}" for kk, vv in pairs]
        arr = sink.add(f"struct {cont.entry} @[{len(inits)}]", "", "{ " + ", ".join(inits) + " }")
        return f"{{ .count = {len(inits)}, .entries = (struct {cont.entry} *){arr} }}"

    def _model_for(self, s: ast.Struct) -> StructModel:
        if s.program is None or s.program is self.ast:
            return self.struct_model(s)
        return self._of(s.program).struct_model(s)

    def _const(self, c: ast.Const) -> ConstModel:
        ct = self.ctype(c.type)
        value = c.evaluated if c.evaluated is not None else evaluate(c.value)
        summary = _doc_summary(c.doc, f"constant {c.name}")
        if ct.cat == "scalar":
            cname = self.names.claim(f"{self.prefix}_{snake(c.name)}".upper(), upper=True,
                                     what=f"const {c.name}", loc=c.loc).upper()
            define = self.initializer(ct, value, self.statics)
            comment = f"{float(value)!r}" if ct.kind == "double" else ""
            return ConstModel(ast=c, cname=cname, ctype=ct, define=define, comment=comment, init=None,
                              doc_summary=summary)
        cname = self.names.claim(f"{self.prefix}_{snake(c.name)}", what=f"const {c.name}", loc=c.loc)
        init = self.initializer(ct, value, self.statics)
        return ConstModel(ast=c, cname=cname, ctype=ct, define=None, comment="", init=init,
                          doc_summary=summary)


def _container_name(mangle: str) -> str:
    name = f"kg_{mangle}"
    if len(name) > MAX_CNAME:
        import hashlib

        h = hashlib.sha1(name.encode()).hexdigest()[:8]
        name = f"{name[:MAX_CNAME - 9]}_{h}"
    return name


# ---------------------------------------------------------------------------
# Declaration order for one file
# ---------------------------------------------------------------------------


@dataclass(eq=False)
class Unit:
    """What one C file pair declares and defines: structs (own), the containers
    they use (guarded, shared by name across files) and static data."""

    pm: ProgramModel
    structs: list[StructModel]
    extra_types: list[CType] = field(default_factory=list)  # consts, typedefs
    decls: list[tuple[str, object]] = field(default_factory=list)  # ("struct"|"container"|"entry", obj)
    containers: list[Container] = field(default_factory=list)  # helpers to define, inner first

    def build(self) -> "Unit":
        own = {s.cname: s for s in self.structs}
        done: set[str] = set()
        cont_by_name: dict[str, Container] = {}
        helpers: list[Container] = []

        def need_container(c: Container) -> None:
            if c.cname in cont_by_name:
                return
            cont_by_name[c.cname] = c
            for ch in c.children():
                if ch.container is not None:
                    need_container(ch.container)
            helpers.append(c)

        def complete(ct: CType) -> None:
            """Make ct a complete type before the current point."""
            if ct.cat == "struct":
                sm = own.get(ct.c[len("struct "):])
                if sm is not None:
                    visit_struct(sm)
            elif ct.cat == "container":
                visit_container(ct.container)

        def visit_container(c: Container) -> None:
            key = "c:" + c.cname
            if key in done:
                return
            done.add(key)
            need_container(c)
            for ch in c.children():
                if ch.container is not None:
                    visit_container(ch.container)
            self.decls.append(("container", c))
            if c.kind == "map":
                entries.append(c)

        def visit_struct(sm: StructModel) -> None:
            key = "s:" + sm.cname
            if key in done:
                return
            done.add(key)
            for f in sm.fields:
                if f.pointer:
                    continue
                complete(f.ctype)
            self.decls.append(("struct", sm))

        entries: list[Container] = []
        for sm in self.structs:
            visit_struct(sm)
        for ct in self.extra_types:
            complete(ct)
        # A map entry holds its key and value by value: declared once everything
        # above is complete (nothing holds an entry by value, only pointers).
        i = 0
        while i < len(entries):
            c = entries[i]
            complete(c.key)
            complete(c.value)
            self.decls.append(("entry", c))
            i += 1
        self.containers = helpers
        # Only the helpers the structs use (transitively) are defined here.
        used: list[Container] = []
        seen: set[str] = set()

        def use(c: Container) -> None:
            if c.cname in seen:
                return
            seen.add(c.cname)
            for ch in c.children():
                if ch.container is not None:
                    use(ch.container)
            used.append(c)

        for sm in self.structs:
            for f in sm.fields:
                if f.ctype.container is not None:
                    use(f.ctype.container)
        self.containers = used
        return self
