"""The Thrift IDL abstract syntax tree.

Every node carries a `Location` (file, line, column; 1-based).  The parser builds
these nodes; the resolver (`resolver.py`) fills the fields marked *resolved*
and evaluates constants; the code generator reads only resolved programs.

Back references (to the defining program, the enclosing enum, resolved
targets) are left out of `==` and `repr`, so nodes of two parses compare by
content and printing a node does not walk the whole program.

This module is the contract between the parser, the resolver and the code
generator: change it with care.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Union


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


NOWHERE = Location("<builtin>", 0, 0)


@dataclass(kw_only=True)
class Node:
    loc: Location = NOWHERE


@dataclass(kw_only=True)
class Annotation(Node):
    """`(name = "value")` on a type, field, function, service, enum or value."""

    name: str
    value: str | None = None


# --------------------------------------------------------------------------
# Types
# --------------------------------------------------------------------------

BASE_TYPES = ("bool", "byte", "i8", "i16", "i32", "i64", "double", "string", "binary", "uuid")


@dataclass(kw_only=True)
class BaseType(Node):
    name: str  # one of BASE_TYPES ("byte" is kept as written; it means i8)
    annotations: list[Annotation] = field(default_factory=list)


@dataclass(kw_only=True)
class ListType(Node):
    elem: "Type"
    annotations: list[Annotation] = field(default_factory=list)
    cpp_type: str | None = None


@dataclass(kw_only=True)
class SetType(Node):
    elem: "Type"
    annotations: list[Annotation] = field(default_factory=list)
    cpp_type: str | None = None


@dataclass(kw_only=True)
class MapType(Node):
    key: "Type"
    value: "Type"
    annotations: list[Annotation] = field(default_factory=list)
    cpp_type: str | None = None


@dataclass(kw_only=True)
class TypeRef(Node):
    """A named type: `Foo` or `module.Foo` (module = included file's base name).

    resolved: the Typedef, Enum or Struct it names (set by the resolver).
    """

    name: str
    annotations: list[Annotation] = field(default_factory=list)
    target: "Definition | None" = field(default=None, compare=False, repr=False)  # resolved


Type = Union[BaseType, ListType, SetType, MapType, TypeRef]


# --------------------------------------------------------------------------
# Constant values (as written; the resolver evaluates them)
# --------------------------------------------------------------------------


@dataclass(kw_only=True)
class ConstInt(Node):
    value: int


@dataclass(kw_only=True)
class ConstDouble(Node):
    value: float
    text: str = ""  # the literal as written (for exact dumps)


@dataclass(kw_only=True)
class ConstString(Node):
    value: str  # escapes already decoded


@dataclass(kw_only=True)
class ConstList(Node):
    items: list["ConstValue"] = field(default_factory=list)


@dataclass(kw_only=True)
class ConstMap(Node):
    """A map literal; also how struct literals are written."""

    items: list[tuple["ConstValue", "ConstValue"]] = field(default_factory=list)


@dataclass(kw_only=True)
class ConstRef(Node):
    """An identifier in a constant: a const, `Enum.VALUE`, `module.CONST`...

    target: the Const or EnumValue it names (set by the resolver).
    """

    name: str
    target: "Const | EnumValue | None" = field(default=None, compare=False, repr=False)  # resolved


ConstValue = Union[ConstInt, ConstDouble, ConstString, ConstList, ConstMap, ConstRef]


# --------------------------------------------------------------------------
# Headers
# --------------------------------------------------------------------------


@dataclass(kw_only=True)
class Include(Node):
    path: str  # as written
    program: "Program | None" = field(default=None, compare=False, repr=False)  # resolved: the included program


@dataclass(kw_only=True)
class CppInclude(Node):
    path: str


@dataclass(kw_only=True)
class Namespace(Node):
    scope: str  # "*", "cpp", "py", "java", "netstd", ...
    name: str
    annotations: list[Annotation] = field(default_factory=list)


# --------------------------------------------------------------------------
# Definitions
# --------------------------------------------------------------------------


@dataclass(kw_only=True)
class Definition(Node):
    name: str
    doc: str | None = None  # doctext `/** ... */` before the definition, cleaned
    annotations: list[Annotation] = field(default_factory=list)
    program: "Program | None" = field(default=None, compare=False, repr=False)  # the program that defines it (set by the parser)


@dataclass(kw_only=True)
class Const(Definition):
    type: Type
    value: ConstValue
    # resolved: the value as plain Python data, checked against `type`:
    # int / float / str / bytes(binary) / bool / list / {k: v} (map, set as list)
    # / {field_name: value} for struct literals; enum values as their int.
    evaluated: object = None


@dataclass(kw_only=True)
class Typedef(Definition):
    type: Type


@dataclass(kw_only=True)
class EnumValue(Node):
    name: str
    value: int  # explicit, or implicit (previous + 1, starting at 0): filled by the parser
    explicit: bool = False
    doc: str | None = None
    annotations: list[Annotation] = field(default_factory=list)
    enum: "Enum | None" = field(default=None, compare=False, repr=False)  # the enum it belongs to


@dataclass(kw_only=True)
class Enum(Definition):
    values: list[EnumValue] = field(default_factory=list)


REQUIRED = "required"
OPTIONAL = "optional"
DEFAULT = "default"  # neither keyword written: "opt-in, req-out"


@dataclass(kw_only=True)
class Field(Node):
    id: int  # explicit, or negative auto-assigned (-1, -2, ...) with a warning
    name: str
    type: Type
    requiredness: str = DEFAULT  # REQUIRED / OPTIONAL / DEFAULT
    default: ConstValue | None = None
    default_evaluated: object = None  # resolved, like Const.evaluated
    explicit_id: bool = True
    reference: bool = False  # the `&` marker
    xsd_optional: bool = False
    xsd_nillable: bool = False
    xsd_attrs: list["Field"] | None = None
    doc: str | None = None
    annotations: list[Annotation] = field(default_factory=list)


STRUCT = "struct"
UNION = "union"
EXCEPTION = "exception"


@dataclass(kw_only=True)
class Struct(Definition):
    kind: str = STRUCT  # STRUCT / UNION / EXCEPTION
    fields: list[Field] = field(default_factory=list)
    xsd_all: bool = False


@dataclass(kw_only=True)
class Function(Node):
    name: str
    return_type: Type | None  # None: void
    args: list[Field] = field(default_factory=list)
    throws: list[Field] = field(default_factory=list)
    oneway: bool = False
    doc: str | None = None
    annotations: list[Annotation] = field(default_factory=list)


@dataclass(kw_only=True)
class Service(Definition):
    extends: str | None = None  # as written: "Base" or "module.Base"
    extends_target: "Service | None" = field(default=None, compare=False, repr=False)  # resolved
    extends_loc: Location | None = None  # where the `extends` name is written (optional; else `loc`)
    functions: list[Function] = field(default_factory=list)


@dataclass(kw_only=True)
class Program(Node):
    """One parsed .thrift file."""

    path: str  # as opened
    name: str  # base name without .thrift: the prefix other files use for its types
    doc: str | None = None  # file-level doctext
    includes: list[Include] = field(default_factory=list)
    cpp_includes: list[CppInclude] = field(default_factory=list)
    namespaces: list[Namespace] = field(default_factory=list)
    definitions: list[Definition] = field(default_factory=list)  # in source order

    # Convenience views, in source order.
    def of(self, kind: type) -> list:
        return [d for d in self.definitions if isinstance(d, kind)]

    @property
    def consts(self) -> list[Const]:
        return self.of(Const)

    @property
    def typedefs(self) -> list[Typedef]:
        return self.of(Typedef)

    @property
    def enums(self) -> list[Enum]:
        return self.of(Enum)

    @property
    def structs(self) -> list[Struct]:
        return self.of(Struct)

    @property
    def services(self) -> list[Service]:
        return self.of(Service)


def true_type(t: Type) -> Type | Definition:
    """Follow TypeRefs and typedef chains to a BaseType, container, Enum or Struct."""
    seen = 0
    while True:
        if isinstance(t, TypeRef):
            if t.target is None:
                raise ValueError(f"unresolved type {t.name} at {t.loc}")
            t = t.target
        elif isinstance(t, Typedef):
            t = t.type
        else:
            return t
        seen += 1
        if seen > 1000:
            raise ValueError("typedef cycle")
