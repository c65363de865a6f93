"""The first stage: C names for IDL names, and the table that hands them out.

Every C identifier a generated module defines at file scope (types, args/result
structs, functions, handlers, ops tables, module-level symbols) is claimed in one
`NameTable` per module, in a fixed order (included programs first, then the
services), so a clash between two IDL names is resolved the same way on every run:
the later one gets `_2`, `_3`... and a warning at its IDL location says so.
Scopes of their own (struct members, handler parameters) use a table of their own.

This module imports nothing else from the generator: it is the bottom of the chain
naming -> lowering (model.py, service.py, module.py) -> rendering.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from ..frontend import ast
from ..frontend.diagnostics import WARNING, Diagnostic

C_KEYWORDS = frozenset("""
auto break case char const continue default do double else enum extern float for goto
if inline int long register restrict return short signed sizeof static struct switch
typedef union unsigned void volatile while _Bool _Complex _Imaginary _Alignas _Alignof
_Atomic _Generic _Noreturn _Static_assert _Thread_local asm typeof bool true false
""".split())

# Object-like macros and type names of the kernel (and of user-space libc) that
# would break a member or variable of that name, plus gcc's gnu-mode `linux`/`unix`.
MACRO_CLASHES = frozenset("""
NULL current jiffies errno linux unix i386 stdin stdout stderr u8 u16 u32 u64 s8 s16 s32 s64
size_t ssize_t loff_t bool min max likely unlikely offsetof container_of fallthrough
__user __force __iomem __packed noinline EOF HZ PAGE_SIZE BITS_PER_LONG clamp abs swap
""".split())

# Members the generated structs use for themselves.
RESERVED_MEMBERS = frozenset({"isset"})

# Names a handler's signature and the processor use for themselves.
RESERVED_PARAMS = frozenset({"call", "result", "ops", "args", "res", "ret", "conn", "seqid",
                             "in", "msg_type", "handlers"})

# The runtime's prefix: an IDL called kg.thrift must not define kg_* names.
RUNTIME_PREFIXES = ("kg", "kgen")


def snake(name: str) -> str:
    """`CrazyNesting` -> `crazy_nesting`, `userMap` -> `user_map`, `HTTP2Server` -> `http2_server`.

    A leading digit gets an `n` in front (`2echo` -> `n2echo`): C names cannot start with one.
    """
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", name)
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", s)
    s = re.sub(r"[^A-Za-z0-9_]", "_", s)
    s = re.sub(r"_+", "_", s).lower().strip("_") or "x"
    if s[0].isdigit():
        s = "n" + s
    return s


def safe_ident(name: str) -> str:
    """`name`, with a `_` suffix while it is a C keyword or a kernel macro/type name."""
    while name in C_KEYWORDS or name in MACRO_CLASHES:
        name += "_"
    return name


def file_prefix(program: ast.Program) -> str:
    """The C prefix of one IDL file: `ThriftTest.thrift` -> `thrift_test`, `2echo` -> `n2echo`."""
    p = snake(program.name)
    return p + "_idl" if p in RUNTIME_PREFIXES else p


def module_name(program: ast.Program, override: str | None) -> str:
    """The .ko name: --module, else the file's base name in lower case (`2echo` -> `m_2echo`)."""
    name = override or Path(program.path).name.rsplit(".", 1)[0].lower()
    name = re.sub(r"[^a-z0-9_]", "_", name.lower())
    if not name or name[0].isdigit():
        name = "m_" + name
    return name


TAG = "@tag"


def _qualified(cand: str, suffix: str, upper: bool) -> str:
    if suffix.endswith(TAG):
        return "struct " + cand + suffix[:-len(TAG)]
    name = cand + suffix
    return name.upper() if upper else name


def _bare(name: str) -> str:
    return name.removeprefix("struct ")


def _shown(name: str) -> str:
    return name


@dataclass
class NameTable:
    """C identifiers taken in one scope; `claim` picks the first free variant.

    `warnings` collects a diagnostic for every name that had to change because another
    IDL name (or a name the generator uses itself) had it first.
    """

    taken: set[str] = field(default_factory=set)
    warnings: list[Diagnostic] = field(default_factory=list)
    owners: dict[str, str] = field(default_factory=dict)  # C name -> what claimed it

    @classmethod
    def scope(cls, reserved=frozenset()) -> "NameTable":
        return cls(taken=set(reserved))

    def claim(self, base: str, derived: tuple[str, ...] = ("",), upper: bool = False,
              what: str = "", loc: ast.Location | None = None) -> str:
        """Reserve `base + d` for every d in `derived`; on a clash try base_2, base_3...

        A suffix ending in TAG names a struct or enum tag (`struct foo`), which C keeps
        apart from functions and variables. `what` (e.g. "struct CalcDivideArgs") and
        `loc` make the warning on a clash.
        """
        wanted, base = base, safe_ident(base)
        if base != wanted and loc is not None:
            self.warnings.append(Diagnostic(loc, WARNING, (
                f"{what or 'name'}: {wanted} is a C keyword or kernel macro; using {base}")))
        n = 1
        while True:
            cand = base if n == 1 else f"{base}_{n}"
            names = [_qualified(cand, d, upper) for d in derived]
            if not any(x in self.taken for x in names) and not any(
                    _bare(x) in C_KEYWORDS or _bare(x) in MACRO_CLASHES for x in names):
                break
            n += 1
        if n > 1 and loc is not None:
            first = [_qualified(base, d, upper) for d in derived]
            clash = next((x for x in first if x in self.taken), first[0])
            owner = self.owners.get(clash, "a C keyword or kernel macro")
            chosen = cand.upper() if upper else cand
            self.warnings.append(Diagnostic(loc, WARNING, (
                f"{what or 'name'}: C name {_shown(clash)} is taken by {owner}; "
                f"using {chosen} instead")))
        self.taken.update(names)
        for x in names:
            self.owners.setdefault(x, what or "another definition")
        return cand

    def reserve(self, names, what: str) -> None:
        """Names the generator itself defines (module-level symbols), taken before any IDL name."""
        for x in names:
            self.taken.add(x)
            self.owners.setdefault(x, what)
