"""The resolved program as JSON: `to_json(program) -> dict` (`thrift-kgen dump --json`).

Schema (every list in source order; keys in this order)::

    {
      "name": "ThriftTest",                 # Program.name
      "path": "test/ThriftTest.thrift",
      "doc": "...",                         # only when there is a file doc comment
      "includes": [{"path": "shared.thrift", "name": "shared"}],
      "namespaces": [{"scope": "cpp", "name": "thrift.test"}],
      "typedefs":   [{"name", "type": TYPE, "doc"?}],
      "enums":      [{"name", "values": [{"name", "value": int}], "doc"?}],
      "structs":    [{"name", "kind": "struct"|"union"|"exception", "fields": [FIELD], "doc"?}],
      "consts":     [{"name", "type": TYPE, "value": VALUE, "doc"?}],
      "services":   [{"name", "extends": "shared.Base" | null, "functions": [FUNCTION], "doc"?}]
    }

    TYPE      {"kind": "base", "name": "bool"|"i8"|"i16"|"i32"|"i64"|"double"|"string"|"binary"|"uuid"}
                   ("byte" is dumped as "i8")
            | {"kind": "list", "elem": TYPE} | {"kind": "set", "elem": TYPE}
            | {"kind": "map", "key": TYPE, "value": TYPE}
            | {"kind": "struct"|"union"|"exception"|"enum", "name": "Name" or "module.Name",
               "program": the name of the program (file) that defines it}
            | {"kind": "typedef", "name": ..., "program": ..., "type": TYPE}
                   (a typedef carries what it stands for, so a reader never needs to look it up)
              A named type defined in another file is qualified with that file's program name.
    FIELD     {"id": int, "name", "requiredness": "required"|"optional"|"default",
               "type": TYPE, "default": VALUE (only when there is one), "doc"?}
    FUNCTION  {"name", "oneway": bool, "return_type": TYPE | null (void),
               "args": [FIELD], "throws": [FIELD], "doc"?}
    VALUE     the evaluated value: JSON number / string / true|false; binary as a string
              (UTF-8, undecodable bytes as U+FFFD); list and set -> array; struct/union/
              exception literal -> object {field name: VALUE}; map -> array of
              {"key": VALUE, "value": VALUE} (map keys need not be strings); enum values
              as their integer.  A NaN or infinite double is written as the string "nan",
              "inf" or "-inf" (JSON has no such numbers).

Annotations are dumped as "annotations": {name: value} on definitions, fields and
functions when present (the value is null for a bare `(name)`).
"""

from __future__ import annotations

import math

from .ast import (
    EXCEPTION,
    UNION,
    BaseType,
    Const,
    Definition,
    Enum,
    Field,
    Function,
    ListType,
    MapType,
    Program,
    Service,
    SetType,
    Struct,
    Type,
    Typedef,
    TypeRef,
    true_type,
)


def to_json(program: Program) -> dict:
    out: dict = {"name": program.name, "path": program.path}
    if program.doc:
        out["doc"] = program.doc
    out["includes"] = [
        {"path": inc.path, "name": inc.program.name if inc.program is not None else None} for inc in program.includes
    ]
    out["namespaces"] = [{"scope": ns.scope, "name": ns.name} for ns in program.namespaces]
    d = _Dumper(program)
    out["typedefs"] = [d.definition(t, {"type": d.type(t.type)}) for t in program.typedefs]
    out["enums"] = [
        d.definition(e, {"values": [_with_extras({"name": v.name, "value": v.value}, v) for v in e.values]})
        for e in program.enums
    ]
    out["structs"] = [
        d.definition(s, {"kind": _struct_kind(s), "fields": [d.field(f) for f in s.fields]}) for s in program.structs
    ]
    out["consts"] = [
        d.definition(c, {"type": d.type(c.type), "value": value_json(c.evaluated, c.type)}) for c in program.consts
    ]
    out["services"] = [
        d.definition(
            s,
            {
                "extends": d.qualified(s.extends_target) if s.extends_target is not None else s.extends,
                "functions": [d.function(f) for f in s.functions],
            },
        )
        for s in program.services
    ]
    return out


def _struct_kind(s: Struct) -> str:
    return {UNION: "union", EXCEPTION: "exception"}.get(s.kind, "struct")


def _with_extras(obj: dict, node) -> dict:
    doc = getattr(node, "doc", None)
    if doc:
        obj["doc"] = doc
    anns = getattr(node, "annotations", None)
    if anns:
        obj["annotations"] = {a.name: a.value for a in anns}
    return obj


class _Dumper:
    def __init__(self, program: Program):
        self.program = program

    def qualified(self, d: Definition) -> str:
        if d.program is None or d.program is self.program:
            return d.name
        return f"{d.program.name}.{d.name}"

    def definition(self, d: Definition, body: dict) -> dict:
        return _with_extras({"name": d.name, **body}, d)

    def type(self, t: Type | None, depth: int = 0) -> dict | None:
        if t is None:
            return None
        if depth > 100:
            return {"kind": "cycle"}
        if isinstance(t, BaseType):
            return {"kind": "base", "name": "i8" if t.name == "byte" else t.name}
        if isinstance(t, ListType):
            return {"kind": "list", "elem": self.type(t.elem, depth + 1)}
        if isinstance(t, SetType):
            return {"kind": "set", "elem": self.type(t.elem, depth + 1)}
        if isinstance(t, MapType):
            return {"kind": "map", "key": self.type(t.key, depth + 1), "value": self.type(t.value, depth + 1)}
        if isinstance(t, TypeRef):
            target = t.target
            if target is None:
                return {"kind": "unresolved", "name": t.name}
            return self.named(target, depth)
        return {"kind": "unknown"}

    def named(self, target: Definition, depth: int) -> dict:
        name = self.qualified(target)
        prog = target.program.name if target.program is not None else self.program.name
        if isinstance(target, Typedef):
            return {"kind": "typedef", "name": name, "program": prog, "type": self.type(target.type, depth + 1)}
        if isinstance(target, Enum):
            return {"kind": "enum", "name": name, "program": prog}
        if isinstance(target, Struct):
            return {"kind": _struct_kind(target), "name": name, "program": prog}
        return {"kind": "unknown", "name": name, "program": prog}

    def field(self, f: Field) -> dict:
        out = {"id": f.id, "name": f.name, "requiredness": f.requiredness, "type": self.type(f.type)}
        if f.default is not None:
            out["default"] = value_json(f.default_evaluated, f.type)
        return _with_extras(out, f)

    def function(self, fn: Function) -> dict:
        out = {
            "name": fn.name,
            "oneway": fn.oneway,
            "return_type": self.type(fn.return_type),
            "args": [self.field(a) for a in fn.args],
            "throws": [self.field(t) for t in fn.throws],
        }
        return _with_extras(out, fn)


def value_json(v, t: Type | None = None):
    """An evaluated constant (see resolver.py) of type `t` as JSON data.  Without a
    type (or with an unresolved one), a dict is dumped as a map."""
    tt = _true(t)
    if isinstance(v, bool) or v is None or isinstance(v, (int, str)):
        return v
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return v
    if isinstance(v, bytes):
        return v.decode("utf-8", "replace")
    if isinstance(v, (list, tuple)):
        if isinstance(tt, MapType):  # a map key that was a map: tuple of pairs
            return [{"key": value_json(k, tt.key), "value": value_json(x, tt.value)} for k, x in v]
        elem = tt.elem if isinstance(tt, (ListType, SetType)) else None
        return [value_json(i, elem) for i in v]
    if isinstance(v, dict):
        if isinstance(tt, Struct):
            types = {f.name: f.type for f in tt.fields}
            return {k: value_json(x, types.get(k)) for k, x in v.items()}
        kt, vt = (tt.key, tt.value) if isinstance(tt, MapType) else (None, None)
        return [{"key": value_json(k, kt), "value": value_json(x, vt)} for k, x in v.items()]
    return repr(v)


def _true(t):
    if t is None:
        return None
    try:
        return true_type(t)
    except ValueError:
        return None


__all__ = ["to_json", "value_json", "true_type"]
