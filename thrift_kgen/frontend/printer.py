"""Print an AST back as Thrift IDL text.

`print_program(program)` gives text that `parser.parse_text` reads back into
an equal AST (locations aside), within what the grammar can express:

* the order of header lines is includes, cpp_includes, namespaces;
* integers are printed in decimal; doubles as written (`ConstDouble.text`)
  or as Python's `repr` (`inf` as `1e999`);
* an enum value is printed with `= N` when it was explicit or when N is not
  what the implicit rule (previous + 1, from 0) would give;
* a field id is printed when `explicit_id` is set; without it the parser
  re-assigns -1, -2, ... in order, as Apache does;
* annotations on a `TypeRef` or a `Const` have no syntax and are not printed;
* doctext is printed as `/** ... */` blocks, which Apache's doctext cleaning
  turns back into the same text for docs made of lines that end in a newline,
  carry no trailing blanks and are not all indented alike.  The program doc
  is printed first; without a header line after it, Apache's rules would
  also give it to the first definition if that has no doc of its own, and
  without any header line the first definition's doc becomes the program's.
"""

from __future__ import annotations

import math

from . import ast

INDENT = "  "

_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def quote_string(s: str) -> str:
    """A double-quoted Thrift string literal for `s` (escapes Apache decodes)."""
    return '"' + "".join(_ESCAPES.get(c, c) for c in s) + '"'


def print_annotations(annotations: list[ast.Annotation]) -> str:
    if not annotations:
        return ""
    parts = []
    for a in annotations:
        parts.append(a.name if a.value is None else f"{a.name} = {quote_string(a.value)}")
    return " (" + ", ".join(parts) + ")"


def print_type(t: ast.Type) -> str:
    if isinstance(t, ast.BaseType):
        return t.name + print_annotations(t.annotations)
    if isinstance(t, ast.TypeRef):
        return t.name
    cpp = f" cpp_type {quote_string(t.cpp_type)} " if t.cpp_type is not None else ""
    if isinstance(t, ast.ListType):
        s = f"list{cpp}<{print_type(t.elem)}>"
    elif isinstance(t, ast.SetType):
        s = f"set{cpp}<{print_type(t.elem)}>"
    elif isinstance(t, ast.MapType):
        s = f"map{cpp}<{print_type(t.key)}, {print_type(t.value)}>"
    else:
        raise TypeError(f"not a type: {t!r}")
    return s + print_annotations(t.annotations)


def print_double(v: ast.ConstDouble) -> str:
    if v.text:
        return v.text
    x = v.value
    if math.isinf(x):
        return "1e999" if x > 0 else "-1e999"
    if math.isnan(x):
        raise ValueError("NaN has no Thrift literal")
    return repr(float(x))


def print_const_value(v: ast.ConstValue) -> str:
    if isinstance(v, ast.ConstInt):
        return str(int(v.value))
    if isinstance(v, ast.ConstDouble):
        return print_double(v)
    if isinstance(v, ast.ConstString):
        return quote_string(v.value)
    if isinstance(v, ast.ConstRef):
        return v.name
    if isinstance(v, ast.ConstList):
        return "[" + ", ".join(print_const_value(i) for i in v.items) + "]"
    if isinstance(v, ast.ConstMap):
        return "{" + ", ".join(f"{print_const_value(k)}: {print_const_value(x)}" for k, x in v.items) + "}"
    raise TypeError(f"not a constant value: {v!r}")


def print_doc(doc: str | None, indent: str = "") -> str:
    if doc is None:
        return ""
    lines = doc.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    out = [indent + "/**"]
    for line in lines:
        out.append(indent + (" * " + line if line else " *"))
    out.append(indent + " */")
    return "\n".join(out) + "\n"


def print_field(f: ast.Field, indent: str) -> str:
    s = print_doc(f.doc, indent) + indent
    if f.explicit_id:
        s += f"{f.id}: "
    if f.requiredness in (ast.REQUIRED, ast.OPTIONAL):
        s += f.requiredness + " "
    s += print_type(f.type)
    if f.reference:
        s += " &"
    s += " " + f.name
    if f.default is not None:
        s += " = " + print_const_value(f.default)
    if f.xsd_optional:
        s += " xsd_optional"
    if f.xsd_nillable:
        s += " xsd_nillable"
    if f.xsd_attrs is not None:
        s += " xsd_attrs {" + print_field_list(f.xsd_attrs, indent + INDENT) + indent + "}"
    s += print_annotations(f.annotations)
    return s


def print_field_list(fields: list[ast.Field], indent: str) -> str:
    if not fields:
        return ""
    return "\n" + "".join(print_field(f, indent) + ",\n" for f in fields)


def _args(fields: list[ast.Field]) -> str:
    return ", ".join(print_field(f, "") for f in fields)


def print_function(fn: ast.Function, indent: str) -> str:
    s = print_doc(fn.doc, indent) + indent
    if fn.oneway:
        s += "oneway "
    s += ("void" if fn.return_type is None else print_type(fn.return_type)) + " " + fn.name
    s += "(" + _args(fn.args) + ")"
    if fn.throws:
        s += " throws (" + _args(fn.throws) + ")"
    s += print_annotations(fn.annotations)
    return s + ",\n"


def print_definition(d: ast.Definition) -> str:
    s = print_doc(d.doc)
    if isinstance(d, ast.Const):
        s += f"const {print_type(d.type)} {d.name} = {print_const_value(d.value)}\n"
    elif isinstance(d, ast.Typedef):
        s += f"typedef {print_type(d.type)} {d.name}{print_annotations(d.annotations)}\n"
    elif isinstance(d, ast.Enum):
        s += f"enum {d.name} {{\n"
        prev = -1
        for v in d.values:
            s += print_doc(v.doc, INDENT) + INDENT + v.name
            if v.explicit or v.value != prev + 1:
                s += f" = {v.value}"
            prev = v.value
            s += print_annotations(v.annotations) + ",\n"
        s += "}" + print_annotations(d.annotations) + "\n"
    elif isinstance(d, ast.Struct):
        head = {ast.STRUCT: "struct", ast.UNION: "union", ast.EXCEPTION: "exception"}[d.kind]
        xsd = " xsd_all" if d.xsd_all and d.kind != ast.EXCEPTION else ""
        s += f"{head} {d.name}{xsd} {{" + print_field_list(d.fields, INDENT)
        s += "}" + print_annotations(d.annotations) + "\n"
    elif isinstance(d, ast.Service):
        ext = f" extends {d.extends}" if d.extends else ""
        s += f"service {d.name}{ext} {{\n"
        s += "".join(print_function(f, INDENT) for f in d.functions)
        s += "}" + print_annotations(d.annotations) + "\n"
    else:
        raise TypeError(f"not a definition: {d!r}")
    return s


def print_program(prog: ast.Program) -> str:
    out = []
    if prog.doc is not None:
        out.append(print_doc(prog.doc))
    headers = []
    lone_namespace = (
        not prog.includes
        and not prog.cpp_includes
        and len(prog.namespaces) == 1
        and prog.namespaces[0].scope != "*"
        and not prog.namespaces[0].annotations
    )
    first_doc = bool(prog.definitions) and prog.definitions[0].doc is not None
    for inc in prog.includes:
        headers.append(f"include {quote_string(inc.path)}\n")
    for inc in prog.cpp_includes:
        headers.append(f"cpp_include {quote_string(inc.path)}\n")
    for ns in prog.namespaces:
        if ns.scope == "*":
            headers.append(f"namespace * {ns.name}\n")
        else:
            annots = print_annotations(ns.annotations)
            if lone_namespace and first_doc and prog.doc is None:
                # Apache reads one token past `namespace a b` before taking it in, so a
                # doctext right after the only header would become the program doc too;
                # an empty annotation list ends the header without that look-ahead.
                annots = " ()"
            headers.append(f"namespace {ns.scope} {ns.name}{annots}\n")
    out.extend(headers)
    for d in prog.definitions:
        out.append("\n" + print_definition(d))
    return "".join(out)


# Fields that point back up or sideways in the tree, or that later stages fill.
_SKIP = frozenset({"loc", "program", "enum", "target", "extends_target", "evaluated", "default_evaluated"})


def dump(node, locations: bool = False):
    """`node` as plain data (dicts, lists, tuples, scalars) for comparisons and debugging.

    Leaves out back references (`program`, `enum`), resolver results and,
    unless `locations`, every `loc`.  Dataclass `==` on AST nodes from two
    parses would recurse through those back references: compare dumps instead.
    """
    import dataclasses

    if isinstance(node, list):
        return [dump(x, locations) for x in node]
    if isinstance(node, tuple):
        return tuple(dump(x, locations) for x in node)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        out = {"node": type(node).__name__}
        for f in dataclasses.fields(node):
            if f.name in _SKIP and not (locations and f.name == "loc"):
                continue
            v = getattr(node, f.name)
            out[f.name] = str(v) if f.name == "loc" else dump(v, locations)
        return out
    return node
