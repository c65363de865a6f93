"""Load a Thrift program with its includes, resolve names, evaluate constants, check.

`load_program(path, include_dirs, diags)` is the front end's entry point: it parses
the file and, recursively, every file it includes, then resolves and checks them all
(included files first).  It returns the root `Program`, or None if any error was
reported to `diags`.

Include search: an absolute path is used as is; a relative one is looked up in the
including file's folder first, then in each `-I` directory in order.  Each file is
parsed once (by real path); an include cycle is an error that shows the chain.

Name resolution follows the Apache Thrift compiler (0.25):

* Types (typedefs, enums, structs, unions, exceptions) may be used before they are
  defined in field, argument, return and typedef positions.  `module.Type` names a
  type of a file included *directly* by this one (module = its base name).
* Constant values are evaluated in source order: a constant, an enum value or a type
  used while evaluating a constant or a default value must be defined before it (or
  in an included file).  So must the base service of `extends` and the exceptions
  of a `throws` clause, as in Apache.
* Identifiers in constants name a constant (`C`, `module.C`) or an enum value
  (`Enum.V`, `module.Enum.V`).  Where an enum is expected, the value is written
  `Enum.V` (Apache looks only at the part after the enum name, and so do we, with a
  warning if the enum named differs) or as an integer that one of its values has.
  References to constants of container or struct type are refused, as in Apache.

Evaluated values (`Const.evaluated`, `Field.default_evaluated`), checked against the
declared type: bool -> bool; i8/i16/i32/i64 -> int (range-checked for the type;
Apache does not check ranges, we do); enum -> its int value; double -> float;
string -> str; binary -> bytes (UTF-8); uuid -> str (canonical 8-4-4-4-12, braces
removed, case kept); list/set -> list (a set keeps duplicates, like Apache);
map -> dict (a duplicate key keeps the last value, with a warning; a key that is a
list/set becomes a tuple, a map key a tuple of (key, value) pairs); struct, union
and exception literals -> {field name: value}.

Checks and their Apache counterparts (Apache's message in quotes where we keep it):
duplicate type/service names ("Type "X" is already defined."), duplicate constants
and enum value names, field ids and names used twice ("\"1: a\" - field
identifier/name has already been used"), duplicate functions and functions that
redefine an inherited one, undefined types, typedef cycles, `throws` of non-exception
types, oneway functions that throw (error) or return a value (warning, as Apache),
union members made optional (warning if written `required`), at most one default in
a union, `optional` ignored in argument lists and `required` in throws (warnings),
enum values in the i32 range, dotted identifiers, constant type errors ("type error: const "x<elem>" was declared as i32").

Where we are stricter than Apache (it accepts these silently): integer constants out
of their type's range (`const i8 X = 1000`), bool constants other than 0/1, and a
container constant written with the wrong shape (`const map<i32,i32> M = 5`,
`const list<i32> L = {"a": 1}`; an *empty* `{}`/`[]` of the other shape is read as
empty, with a warning).  Where we only add warnings: a struct literal missing a
required field, a union literal setting several fields, a duplicate map key, an enum
value written with the wrong enum's name.

The resolver fills: TypeRef.target, ConstRef.target, Include.program,
Service.extends_target, Const.evaluated, Field.default_evaluated, EnumValue.enum;
it sets union members' requiredness to OPTIONAL, `optional` arguments and `required`
throws fields to DEFAULT (what Apache does).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from .ast import (
    DEFAULT,
    EXCEPTION,
    OPTIONAL,
    REQUIRED,
    UNION,
    BaseType,
    Const,
    ConstDouble,
    ConstInt,
    ConstList,
    ConstMap,
    ConstRef,
    ConstString,
    ConstValue,
    Definition,
    Enum,
    EnumValue,
    Field,
    Function,
    ListType,
    Location,
    MapType,
    Program,
    Service,
    SetType,
    Struct,
    Type,
    Typedef,
    TypeRef,
)
from .diagnostics import CompileError, Diagnostics

INT_RANGES = {
    "byte": (-(2**7), 2**7 - 1),
    "i8": (-(2**7), 2**7 - 1),
    "i16": (-(2**15), 2**15 - 1),
    "i32": (-(2**31), 2**31 - 1),
    "i64": (-(2**63), 2**63 - 1),
}
I32_MIN, I32_MAX = INT_RANGES["i32"]
I16_MIN, I16_MAX = INT_RANGES["i16"]

#: Files open at once along one include chain, at most (loading recurses per level).
MAX_INCLUDE_DEPTH = 64

# Visibility order of things defined in included files: before everything.
_INCLUDED = -1


class _EvalError(Exception):
    """A constant failed to evaluate (already reported)."""


# --------------------------------------------------------------------------
# Loading
# --------------------------------------------------------------------------


def load_program(path: str, include_dirs: list[str] | tuple[str, ...], diags: Diagnostics) -> Program | None:
    """Parse `path` and its includes, resolve and check them all.

    Returns the root program, or None if an error was reported.
    """
    try:
        loader = _Loader(list(include_dirs), diags)
        root = loader.load(path, None, [])
        if root is None:
            return None
        broken: set[int] = set()
        for prog in loader.order:  # included files first
            # A file whose include failed (not found, unreadable, bad, in a cycle) is
            # not resolved: that error is reported; names from it would only cascade.
            if any(inc.program is None or id(inc.program) in broken for inc in prog.includes):
                broken.add(id(prog))
                continue
            Resolver(prog, diags).run()
    except CompileError:  # too many errors: the sink gave up
        return None
    except RecursionError:
        try:
            diags.error(Location(path, 0, 0), "input nested too deeply (types, constants or includes)")
        except CompileError:
            pass
        return None
    if diags.error_count:
        return None
    return root


def resolve_program(program: Program, diags: Diagnostics) -> bool:
    """Resolve and check an already parsed program (and its includes, whose
    `Include.program` must be set), included programs first.  For tests and tools
    that build ASTs by hand.  Returns True if no error was reported."""
    order: list[Program] = []
    seen: set[int] = set()

    def visit(p: Program) -> None:
        if id(p) in seen:
            return
        seen.add(id(p))
        for inc in p.includes:
            if inc.program is not None:
                visit(inc.program)
        order.append(p)

    before = diags.error_count
    try:
        visit(program)
        for p in order:
            Resolver(p, diags).run()
    except CompileError:
        return False
    return diags.error_count == before


class _Loader:
    def __init__(self, include_dirs: list[str], diags: Diagnostics):
        self.include_dirs = include_dirs
        self.diags = diags
        self.cache: dict[str, Program | None] = {}  # realpath -> program
        self.order: list[Program] = []  # post-order: includes before includers

    def _parse(self, path: str, loc: Location) -> Program | None:
        if os.path.isdir(path):
            self.diags.error(loc, f"cannot read {_show(path)}: it is a directory, not a file")
            return None
        try:
            with open(path, "rb"):
                pass
        except OSError as e:
            self.diags.error(loc, f"cannot open {_show(path)}: {e.strerror or e}")
            return None
        from .parser import parse_file  # the parser module is built in parallel

        try:
            return parse_file(path, self.diags)
        except CompileError:
            raise
        except (OSError, UnicodeError) as e:
            self.diags.error(loc, f"cannot read {path}: {e}")
            return None

    def load(self, path: str, include_loc: Location | None, stack: list[tuple[str, str, Location | None]]) -> Program | None:
        real = os.path.realpath(path)
        for i, (r, _shown, _loc) in enumerate(stack):
            if r == real:
                chain = " -> ".join(_show(s) for s in [s for _r, s, _l in stack[i:]] + [path])
                self.diags.error(include_loc or Location(path, 0, 0), f"include cycle: {chain}")
                return None
        if real in self.cache:
            return self.cache[real]
        loc = include_loc or Location(path, 0, 0)
        if len(stack) >= MAX_INCLUDE_DEPTH:
            self.diags.error(loc, f"includes nest more than {MAX_INCLUDE_DEPTH} files deep (at {_show(path)})")
            return None
        prog = self._parse(path, loc)
        self.cache[real] = prog
        if prog is None:
            return None
        stack.append((real, path, include_loc))
        try:
            here = os.path.dirname(path) or "."
            for inc in prog.includes:
                found = self.find_include(inc.path, here)
                if found is None:
                    searched = ", ".join([here] + self.include_dirs)
                    self.diags.error(inc.loc, f'cannot find include file "{inc.path}" (searched: {searched})')
                    continue
                inc.program = self.load(found, inc.loc, stack)
        finally:
            stack.pop()
        self.order.append(prog)
        return prog

    def find_include(self, name: str, here: str) -> str | None:
        if os.path.isabs(name):
            return name if os.path.isfile(name) else None
        for d in [here] + self.include_dirs:
            cand = os.path.normpath(os.path.join(d, name))
            if os.path.isfile(cand):
                return cand
        return None


# --------------------------------------------------------------------------
# Resolution and checks of one program
# --------------------------------------------------------------------------


@dataclass
class _Scope:
    """What names mean inside one program (Apache's t_scope)."""

    types: dict[str, tuple[Definition, int]] = field(default_factory=dict)
    services: dict[str, tuple[Service, int]] = field(default_factory=dict)
    consts: dict[str, tuple[Const | EnumValue, int]] = field(default_factory=dict)


def type_str(t: Type | None) -> str:
    """The type as written in IDL (for messages)."""
    if t is None:
        return "void"
    if isinstance(t, BaseType):
        return t.name
    if isinstance(t, ListType):
        return f"list<{type_str(t.elem)}>"
    if isinstance(t, SetType):
        return f"set<{type_str(t.elem)}>"
    if isinstance(t, MapType):
        return f"map<{type_str(t.key)},{type_str(t.value)}>"
    if isinstance(t, TypeRef):
        return t.name
    return str(t)


def _kind_name(d: object) -> str:
    if isinstance(d, Struct):
        return {UNION: "union", EXCEPTION: "exception"}.get(d.kind, "struct")
    if isinstance(d, Enum):
        return "enum"
    if isinstance(d, Typedef):
        return "typedef"
    if isinstance(d, Service):
        return "service"
    return type(d).__name__.lower()


class Resolver:
    """Resolves and checks one program whose includes are already resolved."""

    def __init__(self, program: Program, diags: Diagnostics):
        self.p = program
        self.diags = diags
        self.scope = _Scope()
        self.index: dict[int, int] = {}  # id(definition) -> source position

    # -- helpers ------------------------------------------------------------

    def error(self, loc: Location, msg: str) -> None:
        self.diags.error(loc, msg)

    def warning(self, loc: Location, msg: str) -> None:
        self.diags.warning(loc, msg)

    def run(self) -> None:
        self.build_scope()
        self.resolve_types()
        for i, d in enumerate(self.p.definitions):
            if isinstance(d, Const):
                self.check_const(d, i)
            elif isinstance(d, Struct):
                self.check_struct(d, i)
            elif isinstance(d, Enum):
                self.check_enum(d)
            elif isinstance(d, Service):
                self.check_service(d, i)

    # -- scope --------------------------------------------------------------

    def check_identifier(self, loc: Location, name: str) -> None:
        if "." in name:
            self.error(loc, f"Identifier {name} can't have a dot.")

    def build_scope(self) -> None:
        s = self.scope
        # Included programs: "module.X", visible everywhere.
        for inc in self.p.includes:
            q = inc.program
            if q is None:
                continue
            prefix = q.name + "."
            for d in q.definitions:
                if isinstance(d, (Typedef, Enum, Struct)):
                    s.types[prefix + d.name] = (d, _INCLUDED)
                elif isinstance(d, Service):
                    s.services[prefix + d.name] = (d, _INCLUDED)
                elif isinstance(d, Const):
                    s.consts[prefix + d.name] = (d, _INCLUDED)
                if isinstance(d, Enum):
                    for v in d.values:
                        s.consts[f"{prefix}{d.name}.{v.name}"] = (v, _INCLUDED)
        # Own definitions.
        seen_type: dict[str, Definition] = {}
        seen_const: dict[str, Definition] = {}
        for i, d in enumerate(self.p.definitions):
            self.index[id(d)] = i
            if d.program is None:
                d.program = self.p
            self.check_identifier(d.loc, d.name)
            if isinstance(d, (Typedef, Enum, Struct, Service)):
                prev = seen_type.get(d.name)
                if prev is not None:
                    self.error(
                        d.loc,
                        f'Type "{d.name}" is already defined. (as a {_kind_name(prev)} at line {prev.loc.line})',
                    )
                    continue
                clash = self.include_clash(d)
                if clash is not None:
                    self.error(
                        d.loc,
                        f'Type "{d.name}" is already defined. (in included file {clash.program.path if clash.program else "?"}, '
                        "whose namespaces are the same as this file's)",
                    )
                seen_type[d.name] = d
                if isinstance(d, Service):
                    s.services[d.name] = (d, i)
                else:
                    s.types[d.name] = (d, i)
                if isinstance(d, Enum):
                    for v in d.values:
                        v.enum = d
                        key = f"{d.name}.{v.name}"
                        if key in s.consts and s.consts[key][1] != _INCLUDED:
                            self.error(v.loc, f"Enum {key} is already defined!")
                        else:
                            s.consts[key] = (v, i)
            elif isinstance(d, Const):
                prev = seen_const.get(d.name)
                if prev is not None:
                    self.error(d.loc, f"Constant {d.name} is already defined (at line {prev.loc.line}).")
                    continue
                seen_const[d.name] = d
                s.consts[d.name] = (d, i)

    def include_clash(self, d: Definition) -> Definition | None:
        """Apache's is_unique_typename across includes: a same-named type in an
        included file is an error when both files' namespaces agree (or neither
        has any)."""
        mine = {ns.scope: ns.name for ns in self.p.namespaces}
        for inc in self.p.includes:
            q = inc.program
            if q is None:
                continue
            for other in q.definitions:
                if other.name != d.name or not isinstance(other, (Typedef, Enum, Struct, Service)):
                    continue
                theirs = {ns.scope: ns.name for ns in q.namespaces}
                match = True
                for k, v in mine.items():
                    if theirs.get(k, "") != v:
                        match = False
                for k, v in theirs.items():
                    if mine.get(k, "") != v:
                        match = False
                if match:
                    return other
        return None

    # -- types --------------------------------------------------------------

    def all_types(self):
        """Every type node written in this program, with the definition it is in."""

        def walk(t):
            if t is None:
                return
            yield t
            if isinstance(t, (ListType, SetType)):
                yield from walk(t.elem)
            elif isinstance(t, MapType):
                yield from walk(t.key)
                yield from walk(t.value)

        def fields(fs):
            for f in fs or []:
                yield from walk(f.type)
                if f.xsd_attrs:
                    yield from fields(f.xsd_attrs)

        for d in self.p.definitions:
            if isinstance(d, (Const, Typedef)):
                yield from walk(d.type)
            elif isinstance(d, Struct):
                yield from fields(d.fields)
            elif isinstance(d, Service):
                for fn in d.functions:
                    yield from walk(fn.return_type)
                    yield from fields(fn.args)
                    yield from fields(fn.throws)

    def resolve_types(self) -> None:
        for t in self.all_types():
            if isinstance(t, TypeRef) and t.target is None:
                hit = self.scope.types.get(t.name)
                if hit is None:
                    msg = f'Type "{t.name}" not defined'
                    if t.name in self.scope.services:
                        msg += f" ({t.name} is a service, not a type)"
                    elif "." in t.name and t.name.split(".")[0] not in {
                        i.program.name for i in self.p.includes if i.program
                    }:
                        msg += f" (no included file is named {t.name.split('.')[0]}.thrift)"
                    self.error(t.loc, msg)
                else:
                    t.target = hit[0]
        # Typedef cycles.
        for d in self.p.typedefs:
            seen = {id(d)}
            t: object = d.type
            while isinstance(t, TypeRef) and isinstance(t.target, Typedef):
                if id(t.target) in seen:
                    self.error(d.loc, f"typedef {d.name} is defined in terms of itself")
                    t.target = None  # break the cycle for later stages
                    break
                seen.add(id(t.target))
                t = t.target.type

    def true_type(self, t, pos: int | None, what: str):
        """Follow TypeRefs and typedefs.  With `pos`, every named type met must be
        visible at that source position (Apache resolves such names at parse time).
        Returns None (after an error) if a name is unresolved or not yet visible.
        A typedef chain may be as long as the file makes it; cycles were cut by
        resolve_types (and cannot cross files: includes are acyclic)."""
        seen: set[int] = set()
        while id(t) not in seen:
            seen.add(id(t))
            if isinstance(t, TypeRef):
                target = t.target
                if target is None:
                    return None  # already reported
                if pos is not None and target.program is self.p:
                    at = self.index.get(id(target), -1)
                    if at >= pos:
                        self.error(
                            t.loc,
                            f'Type "{t.name}" not defined: {what} must come after the definition of '
                            f"{t.name} (line {target.loc.line})",
                        )
                        return None
                t = target
            elif isinstance(t, Typedef):
                t = t.type
            else:
                return t
        return None

    # -- constants ----------------------------------------------------------

    def check_const(self, c: Const, pos: int) -> None:
        tt = self.true_type(c.type, pos, f"constant {c.name}")
        if tt is None:
            return
        try:
            c.evaluated = self.evaluate(c.value, c.type, tt, c.name, pos)
        except _EvalError:
            c.evaluated = None

    def evaluate_default(self, f: Field, pos: int, owner: str) -> None:
        if f.default is None:
            return
        tt = self.true_type(f.type, pos, f"the default value of {owner}.{f.name}")
        if tt is None:
            return
        try:
            f.default_evaluated = self.evaluate(f.default, f.type, tt, f.name, pos)
        except _EvalError:
            f.default_evaluated = None

    def fail(self, loc: Location, msg: str):
        self.error(loc, msg)
        raise _EvalError

    def lookup_const(self, ref: ConstRef, pos: int):
        hit = self.scope.consts.get(ref.name)
        if hit is not None and hit[1] < pos:
            return hit[0]
        if hit is not None:
            self.fail(
                ref.loc,
                f'No enum value or constant found named "{ref.name}"! '
                f"({ref.name} is defined later, at line {hit[0].loc.line}; constants must be defined before use)",
            )
        extra = ""
        if ref.name in self.scope.types:
            extra = f" ({ref.name} is a type, not a value)"
        self.fail(ref.loc, f'No enum value or constant found named "{ref.name}"!{extra}')

    def evaluate(self, v: ConstValue, declared, tt, name: str, pos: int):
        """Evaluate `v` against the true type `tt` (declared as `declared`)."""
        if isinstance(tt, BaseType):
            return self.eval_base(v, tt, name, pos)
        if isinstance(tt, Enum):
            return self.eval_enum(v, tt, name, pos)
        if isinstance(tt, Struct):
            return self.eval_struct(v, tt, name, pos)
        if isinstance(tt, (ListType, SetType)):
            if isinstance(v, ConstMap) and not v.items:
                self.warning(v.loc, f'const "{name}" is declared as {type_str(declared)} but written as a map: read as empty')
                return []
            if not isinstance(v, ConstList):
                self.fail(v.loc, f'type error: const "{name}" was declared as {"list" if isinstance(tt, ListType) else "set"}'
                          + self._ref_hint(v))
            if not v.items:  # Apache looks at the element type only for elements
                return []
            et = self.true_type(tt.elem, pos, f"the value of {name}")
            if et is None:
                raise _EvalError
            out = []
            bad = False
            for item in v.items:
                try:
                    out.append(self.evaluate(item, tt.elem, et, name + "<elem>", pos))
                except _EvalError:
                    bad = True
            if bad:
                raise _EvalError
            return out
        if isinstance(tt, MapType):
            if isinstance(v, ConstList) and not v.items:
                self.warning(v.loc, f'const "{name}" is declared as {type_str(declared)} but written as a list: read as empty')
                return {}
            if not isinstance(v, ConstMap):
                self.fail(v.loc, f'type error: const "{name}" was declared as map' + self._ref_hint(v))
            if not v.items:
                return {}
            kt = self.true_type(tt.key, pos, f"the value of {name}")
            vt = self.true_type(tt.value, pos, f"the value of {name}")
            if kt is None or vt is None:
                raise _EvalError
            out = {}
            bad = False
            for k, val in v.items:
                try:
                    kk = hashable(self.evaluate(k, tt.key, kt, name + "<key>", pos))
                    vv = self.evaluate(val, tt.value, vt, name + "<val>", pos)
                except _EvalError:
                    bad = True
                    continue
                if kk in out:
                    self.warning(k.loc, f'const "{name}": duplicate map key {kk!r}; the last value is kept')
                out[kk] = vv
            if bad:
                raise _EvalError
            return out
        self.fail(v.loc, f'type error: const "{name}" has an unknown type')

    @staticmethod
    def _ref_hint(v: ConstValue) -> str:
        if isinstance(v, ConstRef):
            return f" (a reference to {v.name} can only name a constant of a base or enum type)"
        return ""

    def eval_base(self, v: ConstValue, tt: BaseType, name: str, pos: int):
        base = tt.name
        kind, raw = self.scalar(v, pos)
        if base in ("string", "binary", "uuid"):
            if kind != "string":
                self.fail(v.loc, f'type error: const "{name}" was declared as {base}')
            if base == "binary":
                return raw.encode("utf-8", "surrogateescape")
            if base == "uuid":
                return self.check_uuid(v.loc, raw)
            return raw
        if base == "double":
            if kind not in ("int", "double"):
                self.fail(v.loc, f'type error: const "{name}" was declared as double')
            return float(raw)
        # integers and bool
        if kind != "int":
            self.fail(v.loc, f'type error: const "{name}" was declared as {"byte" if base in ("i8", "byte") else base}')
        if base == "bool":
            if raw not in (0, 1):
                self.fail(v.loc, f'type error: const "{name}" was declared as bool, but {raw} is neither 0 (false) nor 1 (true)')
            return bool(raw)
        if base not in INT_RANGES:
            self.fail(v.loc, f'type error: const "{name}" has type {base}, which takes no constant')
        lo, hi = INT_RANGES[base]
        if not lo <= raw <= hi:
            self.fail(v.loc, f'type error: const "{name}" was declared as {base}, but {raw} is out of its range [{lo}, {hi}]')
        return raw

    def scalar(self, v: ConstValue, pos: int) -> tuple[str, object]:
        """("int" | "double" | "string" | "other", value) for a value in a base-type context."""
        if isinstance(v, ConstInt):
            return "int", int(v.value)
        if isinstance(v, ConstDouble):
            return "double", float(v.value)
        if isinstance(v, ConstString):
            return "string", v.value
        if isinstance(v, ConstRef):
            if v.name in ("true", "false") and v.name not in self.scope.consts:
                return "int", 1 if v.name == "true" else 0
            return self.deref(v, pos)
        return "other", None

    def deref(self, ref: ConstRef, pos: int) -> tuple[str, object]:
        """A reference in a base-type context: the value of the const or enum value."""
        target = self.lookup_const(ref, pos)
        ref.target = target
        if isinstance(target, EnumValue):
            return "int", target.value
        tt = self.true_type(target.type, None, "")
        if not isinstance(tt, BaseType):
            self.fail(
                ref.loc,
                f"{ref.name} is a constant of type {type_str(target.type)}: "
                "only constants of base types can be used here",
            )
        val = target.evaluated
        if val is None:
            raise _EvalError  # the referenced constant failed: already reported
        if tt.name in ("string", "uuid"):
            return "string", val
        if tt.name == "binary":
            return "string", val.decode("utf-8", "surrogateescape")
        if tt.name == "double":
            return "double", val
        return "int", int(val)

    def check_uuid(self, loc: Location, s: str) -> str:
        u = s
        if len(u) == 38 and u[0] == "{" and u[-1] == "}":
            u = u[1:-1]
        ok = len(u) == 36 and all(
            (ch == "-") if i in (8, 13, 18, 23) else (ch in "0123456789abcdefABCDEF") for i, ch in enumerate(u)
        )
        if not ok:
            self.fail(loc, f"invalid uuid {s}")
        return u

    def eval_enum(self, v: ConstValue, e: Enum, name: str, pos: int) -> int:
        if isinstance(v, ConstInt):
            for ev in e.values:
                if ev.value == v.value:
                    return ev.value
            self.fail(v.loc, f"Couldn't find a named value in enum {e.name} for value {v.value}")
        if not isinstance(v, ConstRef):
            self.fail(v.loc, f'type error: const "{name}" was declared as enum')
        ident = v.name
        dot = ident.find(".")
        if dot < 0:
            self.fail(
                v.loc,
                f"error: identifier {ident} is unqualified! (write {e.name}.{ident} for a value of enum {e.name})",
            )
        # Apache: the part after the first dot, or after the second one if any.
        portion = ident[dot + 1 :]
        if "." in portion:
            portion = portion[portion.find(".") + 1 :]
        for ev in e.values:
            if ev.name == portion:
                hit = self.scope.consts.get(ident)
                if hit is None or hit[0] is not ev:
                    if hit is None:
                        why = f"{ident} is not a name in scope"
                    elif isinstance(hit[0], EnumValue) and hit[0].enum is not None:
                        why = f"{ident} is a value of enum {hit[0].enum.name}, not of {e.name}"
                    else:
                        why = f"{ident} is not a value of enum {e.name}"
                    self.warning(
                        v.loc, f"{why}; taken as {e.name}.{ev.name} (= {ev.value}), as Apache Thrift does"
                    )
                v.target = ev
                return ev.value
        self.fail(
            v.loc,
            f"type error: const {name} was declared as type {e.name} which is an enum, "
            f"but {ident} is not a valid value for that enum",
        )

    def eval_struct(self, v: ConstValue, s: Struct, name: str, pos: int) -> dict:
        kind = {UNION: "union", EXCEPTION: "exception"}.get(s.kind, "struct")
        if not isinstance(v, ConstMap):
            self.fail(v.loc, f'type error: const "{name}" was declared as struct/xception ({kind} {s.name})'
                      + self._ref_hint(v))
        out: dict = {}
        bad = False
        by_name = {f.name: f for f in s.fields}
        for k, val in v.items:
            try:
                if not isinstance(k, ConstString):
                    self.fail(k.loc, f"type error: {name} struct key must be string")
                f = by_name.get(k.value)
                if f is None:
                    self.fail(k.loc, f'No field named "{k.value}" was found in struct of type "{s.name}"')
                ft = self.true_type(f.type, pos, f"the value of {name}")
                if ft is None:
                    raise _EvalError
                out[k.value] = self.evaluate(val, f.type, ft, f"{name}.{k.value}", pos)
            except _EvalError:
                bad = True
        if bad:
            raise _EvalError
        # Apache checks neither of these; a literal that breaks them is probably a mistake.
        if s.kind == UNION and len(out) > 1:
            self.warning(v.loc, f'const "{name}": a union literal should set one field, not {len(out)}')
        elif s.kind != UNION:
            missing = [f.name for f in s.fields if f.requiredness == REQUIRED and f.name not in out]
            if missing:
                self.warning(
                    v.loc,
                    f'const "{name}": required field{"s" if len(missing) > 1 else ""} '
                    f'{", ".join(missing)} of {s.name} not set',
                )
        return out

    # -- structs ------------------------------------------------------------

    def check_fields(self, fields: list[Field], where: str) -> None:
        ids: dict[int, Field] = {}
        names: dict[str, Field] = {}
        for f in fields:
            self.check_identifier(f.loc, f.name)
            if f.id in ids or f.name in names:
                self.error(f.loc, f'"{f.id}: {f.name}" - field identifier/name has already been used')
                continue
            ids[f.id] = f
            names[f.name] = f

    def check_struct(self, s: Struct, pos: int) -> None:
        self.check_fields(s.fields, s.name)
        if s.kind == UNION:
            with_default = 0
            for f in s.fields:
                if f.requiredness != OPTIONAL:
                    if f.requiredness == REQUIRED:
                        self.warning(
                            f.loc,
                            f"Union {s.name} field {f.name}: union members must be optional, "
                            "ignoring specified requiredness.",
                        )
                    f.requiredness = OPTIONAL
                if f.default is not None:
                    with_default += 1
                    if with_default > 1:
                        self.error(f.loc, f"Field {f.name} provides another default value for union {s.name}")
        for f in s.fields:
            self.evaluate_default(f, pos, s.name)

    # -- enums --------------------------------------------------------------

    def check_enum(self, e: Enum) -> None:
        prev = -1
        for v in e.values:
            self.check_identifier(v.loc, v.name)
            v.enum = e
            if not I32_MIN <= v.value <= I32_MAX:
                if v.explicit:
                    self.error(v.loc, f"64-bit value supplied for enum {v.name} will be truncated.")
                elif prev == I32_MAX:  # where the numbering overflows, not every value after it
                    self.error(v.loc, f"enum value overflow at enum {v.name}")
            prev = v.value

    # -- services -----------------------------------------------------------

    def check_service(self, svc: Service, pos: int) -> None:
        at = getattr(svc, "extends_loc", None) or svc.loc
        if svc.extends and svc.extends_target is None:
            hit = self.scope.services.get(svc.extends)
            if hit is None:
                extra = ""
                if svc.extends in self.scope.types:
                    extra = f" ({svc.extends} is a {_kind_name(self.scope.types[svc.extends][0])}, not a service)"
                self.error(at, f'Service "{svc.extends}" has not been defined.{extra}')
            elif hit[1] >= pos:
                self.error(
                    at,
                    f'Service "{svc.extends}" has not been defined. (it is defined later, at line '
                    f"{hit[0].loc.line}; a base service must come first)",
                )
            elif hit[0] is svc:
                self.error(at, f"service {svc.name} cannot extend itself")
            else:
                svc.extends_target = hit[0]
        names: dict[str, Function] = {}
        for fn in svc.functions:
            self.check_identifier(fn.loc, fn.name)
            if fn.name in names:
                self.error(fn.loc, f"Function {fn.name} is already defined")
            else:
                names[fn.name] = fn
            inherited = self.inherited_function(svc, fn.name)
            if inherited is not None:
                self.error(fn.loc, f"Function {fn.name} is already defined in service {svc.name} "
                           f"(it is inherited from {inherited})")
            self.check_function(svc, fn, pos)

    def inherited_function(self, svc: Service, name: str) -> str | None:
        base = svc.extends_target
        seen = set()
        while base is not None and id(base) not in seen:
            seen.add(id(base))
            if any(f.name == name for f in base.functions):
                return base.name
            base = base.extends_target
        return None

    def check_function(self, svc: Service, fn: Function, pos: int) -> None:
        # Apache's g_arglist covers the whole service body: `optional` means nothing there.
        for a in fn.args + fn.throws:
            if a.requiredness == OPTIONAL:
                self.warning(a.loc, "optional keyword is ignored in argument lists.")
                a.requiredness = DEFAULT
        self.check_fields(fn.args, f"{svc.name}.{fn.name}")
        self.check_fields(fn.throws, f"{svc.name}.{fn.name}")
        for t in fn.throws:
            if t.requiredness == REQUIRED:  # THRIFT-5669
                self.warning(t.loc, f'Exception field {t.name}: "required" is illegal here, ignoring.')
                t.requiredness = DEFAULT
            tt = self.true_type(t.type, pos, f"the throws clause of {svc.name}.{fn.name}")
            if tt is None:
                continue
            if not (isinstance(tt, Struct) and tt.kind == EXCEPTION):
                self.error(
                    t.type.loc if t.type.loc.line else t.loc,
                    f"Throws clause may not contain non-exception types ({t.name} is of type {type_str(t.type)})",
                )
        if fn.oneway:
            if fn.throws:
                self.error(fn.loc, f"Oneway methods can't throw exceptions. ({fn.name})")
            if fn.return_type is not None:
                self.warning(fn.loc, f"Oneway methods should return void. ({fn.name})")
        for a in fn.args:
            self.evaluate_default(a, pos, f"{svc.name}.{fn.name}")
        for t in fn.throws:
            self.evaluate_default(t, pos, f"{svc.name}.{fn.name}")


def _show(path: str) -> str:
    """A path as short as possible for messages."""
    try:
        rel = os.path.relpath(path)
    except ValueError:
        return path
    return rel if len(rel) < len(path) else path


def hashable(x):
    """An evaluated constant value usable as a dict key (a map constant's key): lists and
    sets become tuples, maps tuples of (key, value) pairs, recursively."""
    if isinstance(x, list):
        return tuple(hashable(i) for i in x)
    if isinstance(x, dict):
        return tuple((hashable(k), hashable(v)) for k, v in x.items())
    return x
