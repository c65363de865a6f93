"""PLY lexer for the Thrift IDL, following Apache Thrift 0.2x's `thriftl.ll`.

Token facts (as the Apache compiler has them):

* Identifiers are ``[a-zA-Z_](\\.[a-zA-Z_0-9]|[a-zA-Z_0-9])*``: dots are part of
  the identifier (``shared.SharedStruct``, ``Enum.VALUE``, ``com.example.pkg``).
  A word is a keyword only when the whole identifier is the keyword.
* ``true`` and ``false`` are integer constants 1 and 0.
* Integers: ``[+-]?[0-9]+``; hex: ``[+-]?0x[0-9A-Fa-f]+`` (``-0x1F`` is -31).
  Anything that does not fit a signed 64-bit integer is refused
  ("This integer is too big"), like Apache's strtoll check.
* Doubles: ``[+-]?[0-9]*(\\.[0-9]+)?([eE][+-]?[0-9]+)?`` with at least a
  fraction or an exponent (``e10`` alone is an identifier: THRIFT-3477).
* Strings: ``"..."`` or ``'...'`` on one line; escapes ``\\r \\n \\t \\" \\' \\\\``,
  any other escape is an error.
* Comments: ``//`` and ``#`` to end of line, ``/* ... */`` (not nested).
  ``/**/``, ``/***/`` ... are plain comments. ``/** ... */`` is doctext: it is
  not a token; the lexer cleans it (Apache's ``clean_up_doctext``) and stores
  it in the per-parse `LexState`, from where the parser captures it.

Every token's ``value`` is a `Tok` carrying the decoded value and its
`Location` (file, 1-based line, 1-based column).

The lexer is built once per process (`base_lexer`); every parse uses its own
``clone()`` with its own `LexState`, so parses are independent.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field

import ply.lex as lex

from .ast import Location
from .diagnostics import Diagnostics

# --------------------------------------------------------------------------
# Tokens
# --------------------------------------------------------------------------

#: keyword text -> token type
KEYWORDS = {
    "namespace": "NAMESPACE",
    "cpp_include": "CPP_INCLUDE",
    "cpp_type": "CPP_TYPE",
    "xsd_all": "XSD_ALL",
    "xsd_optional": "XSD_OPTIONAL",
    "xsd_nillable": "XSD_NILLABLE",
    "xsd_attrs": "XSD_ATTRS",
    "include": "INCLUDE",
    "void": "VOID",
    "bool": "BOOL",
    "byte": "BYTE",
    "i8": "I8",
    "i16": "I16",
    "i32": "I32",
    "i64": "I64",
    "double": "DOUBLE",
    "string": "STRING",
    "binary": "BINARY",
    "uuid": "UUID",
    "map": "MAP",
    "list": "LIST",
    "set": "SET",
    "oneway": "ONEWAY",
    "async": "ASYNC",
    "typedef": "TYPEDEF",
    "struct": "STRUCT",
    "union": "UNION",
    "exception": "EXCEPTION",
    "extends": "EXTENDS",
    "throws": "THROWS",
    "service": "SERVICE",
    "enum": "ENUM",
    "const": "CONST",
    "required": "REQUIRED",
    "optional": "OPTIONAL",
}

tokens = (
    "IDENTIFIER",
    "LITERAL",
    "INTCONSTANT",
    "DUBCONSTANT",
) + tuple(sorted(set(KEYWORDS.values())))

literals = [":", ";", ",", "{", "}", "(", ")", "=", "<", ">", "[", "]", "*", "&"]

#: Brackets open at once, at most.  Every later stage (resolver, JSON dump, code
#: generator) walks types and constant values recursively: this bound keeps them far
#: from Python's recursion limit whatever the input, so a deep input is an error with
#: its location, not a RecursionError.  (A decoder refuses more than max_depth, 64 by
#: default, levels at run time anyway.)
MAX_NESTING = 100
_OPENING = "<[{("
_CLOSING = ">]})"

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1


@dataclass(frozen=True)
class Tok:
    """A token's value: what the parser actions receive for every terminal."""

    value: object  # str for identifiers/literals/keywords, int, or float
    loc: Location
    text: str  # the lexeme as written


class LexAbort(Exception):
    """Raised after a lexical error has been reported: Apache stops at the first one."""


@dataclass
class LexState:
    """Per-parse lexer state (the clone's `state` attribute)."""

    path: str
    diags: Diagnostics
    text: str
    # Doctext, as Apache keeps it in globals (g_doctext, g_program_doctext_*):
    doctext: str | None = None
    doctext_lineno: int = 0
    doctext_count: int = 0  # doctexts seen so far (to tell them apart)
    program_doc_candidate: str | None = None
    program_doc_lineno: int = 0
    program_doc_status: str = "INVALID"
    line_starts: list[int] = field(default_factory=list)
    nesting: int = 0  # brackets open (MAX_NESTING)

    def loc(self, lexpos: int) -> Location:
        return Location(self.path, *line_col(self.text, lexpos, self.line_starts))


def line_starts_of(text: str) -> list[int]:
    starts = [0]
    for m in re.finditer("\n", text):
        starts.append(m.end())
    return starts


def line_col(text: str, pos: int, starts: list[int]) -> tuple[int, int]:
    """1-based (line, column) of offset `pos` in `text`."""
    import bisect

    i = bisect.bisect_right(starts, pos) - 1
    return i + 1, pos - starts[i] + 1


# --------------------------------------------------------------------------
# Doctext cleaning (Apache main.cc clean_up_doctext)
# --------------------------------------------------------------------------


def clean_up_doctext(raw: str) -> str | None:
    """Clean the text between ``/**`` and ``*/`` the way Apache does.

    `raw` is the comment body; Apache appends one space (it overwrites the
    ``*/`` with `` \\0``).  Returns None when nothing is left.
    """
    doc = (raw + " ").replace("\r", "")
    parts = doc.split("\n")
    lines = parts[:-1]
    last = parts[-1]
    if last.strip(" \t"):
        lines.append(last)
    if not lines:
        return None

    lines[0] = lines[0].lstrip(" \t")

    def first_nonws(s: str) -> int:
        for i, c in enumerate(s):
            if c not in " \t":
                return i
        return -1

    have_prefix = True
    found_prefix = False
    prefix_len = 0
    for i in range(1, len(lines)):
        line = lines[i]
        if not line:
            continue
        pos = first_nonws(line)
        if not found_prefix:
            if pos != -1:
                if line[pos] == "*":
                    found_prefix = True
                    prefix_len = pos
                else:
                    have_prefix = False
                    break
            else:
                lines[i] = ""
        elif pos != -1 and line[pos] == "*" and pos == prefix_len:
            pass
        elif pos == -1:
            lines[i] = ""
        else:
            have_prefix = False
            break

    if have_prefix:
        cut = prefix_len + 1
        for i in range(1, len(lines)):
            lines[i] = lines[i][cut:]

    min_pos = None
    for i in range(1, len(lines)):
        if not lines[i]:
            continue
        pos = first_nonws(lines[i])
        if pos != -1 and (min_pos is None or pos < min_pos):
            min_pos = pos
    if min_pos is not None:
        for i in range(1, len(lines)):
            lines[i] = lines[i][min_pos:]

    lines = [ln.rstrip(" \t") if ln.strip(" \t") else ln for ln in lines]

    if not lines[0]:
        lines.pop(0)
    return "".join(ln + "\n" for ln in lines)


# --------------------------------------------------------------------------
# Rules.  Function rules are tried in definition order, before string rules.
# --------------------------------------------------------------------------

t_ignore = " \t\r"


def _state(t) -> LexState:
    return t.lexer.state


def t_newline(t):
    r"\n+"
    t.lexer.lineno += len(t.value)


def t_silly_comment(t):
    r"/\*\*+/"
    # `/**/`, `/***/`...: a plain comment (Apache's "sillycomm")


def t_doctext(t):
    r"/\*\*(?:.|\n)*?\*/"
    st = _state(t)
    t.lexer.lineno += t.value.count("\n")
    doc = clean_up_doctext(t.value[3:-2])
    st.doctext = doc
    st.doctext_lineno = t.lexer.lineno  # Apache: yylineno after the comment
    st.doctext_count += 1
    if doc is not None and st.program_doc_candidate is None and st.program_doc_status == "INVALID":
        st.program_doc_candidate = doc
        st.program_doc_lineno = st.doctext_lineno
        st.program_doc_status = "STILL_CANDIDATE"


def t_block_comment(t):
    r"/\*(?:.|\n)*?\*/"
    t.lexer.lineno += t.value.count("\n")


def t_line_comment(t):
    r"(?://|\#)[^\n]*"


def t_LITERAL(t):
    r""""(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'"""
    st = _state(t)
    loc = st.loc(t.lexpos)
    body = t.value[1:-1]
    out = []
    i = 0
    while i < len(body):
        c = body[i]
        if c == "\\":
            e = body[i + 1]
            rep = _ESCAPES.get(e)
            if rep is None:
                st.diags.error(
                    st.loc(t.lexpos + 1 + i),
                    f"bad escape character '\\{e}' in string literal"
                    " (allowed: \\n \\r \\t \\\" \\' \\\\)",
                )
                raise LexAbort()
            out.append(rep)
            i += 2
        else:
            out.append(c)
            i += 1
    t.value = Tok("".join(out), loc, t.value)
    return t


_ESCAPES = {"r": "\r", "n": "\n", "t": "\t", '"': '"', "'": "'", "\\": "\\"}


def t_IDENTIFIER(t):
    r"[a-zA-Z_](?:\.[a-zA-Z_0-9]|[a-zA-Z_0-9])*"
    st = _state(t)
    text = t.value
    loc = st.loc(t.lexpos)
    if text in ("true", "false"):
        t.type = "INTCONSTANT"
        t.value = Tok(1 if text == "true" else 0, loc, text)
        return t
    t.type = KEYWORDS.get(text, "IDENTIFIER")
    t.value = Tok(text, loc, text)
    return t


def t_HEXCONSTANT(t):
    r"[+-]?0x[0-9A-Fa-f]+"
    st = _state(t)
    text = t.value
    neg = text.startswith("-")
    magnitude = int(text.lstrip("+-")[2:], 16)
    if magnitude > INT64_MAX:  # strtoll on the digits overflows
        _too_big(t, text)
    t.type = "INTCONSTANT"
    t.value = Tok(-magnitude if neg else magnitude, st.loc(t.lexpos), text)
    return t


def t_DUBCONSTANT(t):
    r"[+-]?(?:[0-9]*\.[0-9]+(?:[eE][+-]?[0-9]+)?|[0-9]+[eE][+-]?[0-9]+)"
    st = _state(t)
    text = t.value
    try:
        value = float(text)
    except (ValueError, OverflowError):  # pragma: no cover - regex guarantees a float
        value = float("inf")
    t.value = Tok(value, st.loc(t.lexpos), text)
    return t


def t_INTCONSTANT(t):
    r"[+-]?[0-9]+"
    st = _state(t)
    text = t.value
    value = int(text, 10)
    if not INT64_MIN <= value <= INT64_MAX:
        _too_big(t, text)
    t.value = Tok(value, st.loc(t.lexpos), text)
    return t


def _too_big(t, text: str) -> None:
    st = _state(t)
    st.diags.error(st.loc(t.lexpos), f'This integer is too big: "{text}"')
    raise LexAbort()


def t_SYMBOL(t):
    r"[:;,{}()=<>\[\]*&]"
    st = _state(t)
    if t.value in _OPENING:
        st.nesting += 1
        if st.nesting > MAX_NESTING:
            st.diags.error(
                st.loc(t.lexpos),
                f"nested too deeply: more than {MAX_NESTING} levels of '<', '[', '{{' and '(' "
                "(types and constant values nest at most that much)",
            )
            raise LexAbort()
    elif t.value in _CLOSING and st.nesting > 0:
        st.nesting -= 1
    t.type = t.value  # one of `literals`
    t.value = Tok(t.value, st.loc(t.lexpos), t.value)
    return t


def t_error(t):
    st = _state(t)
    pos = t.lexpos
    text = st.text
    c = text[pos]
    loc = st.loc(pos)
    if text.startswith("/*", pos):
        kind = "doc-comment" if text.startswith("/**", pos) else "multiline comment"
        st.diags.error(loc, f"unexpected end of file in {kind} (missing '*/')")
    elif c in "\"'":
        nl = text.find("\n", pos)
        if nl == -1:
            st.diags.error(loc, "end of file while reading string literal (missing closing " + c + ")")
        else:
            st.diags.error(loc, "end of line while reading string literal (missing closing " + c + ")")
    elif c == "\ufeff":
        st.diags.error(loc, "unexpected byte-order mark (U+FEFF): one is allowed only at the start of the file")
    else:
        shown = c if c.isprintable() else repr(c)[1:-1]
        st.diags.error(loc, f"unexpected token in input: '{shown}'")
    raise LexAbort()


# --------------------------------------------------------------------------
# Building and cloning
# --------------------------------------------------------------------------

_base_lexer = None


def base_lexer():
    """The process-wide master lexer (built on first use).

    No lock: two threads racing here both build one and one of them is kept;
    the master is never used to lex, only cloned.
    """
    global _base_lexer
    if _base_lexer is None:
        _base_lexer = lex.lex(
            module=sys.modules[__name__],
            reflags=int(re.VERBOSE),
            optimize=False,
            errorlog=lex.NullLogger(),
        )
    return _base_lexer


def new_lexer(text: str, path: str, diags: Diagnostics):
    """A fresh lexer for one parse of `text`: a clone with its own `LexState`."""
    lx = base_lexer().clone()
    lx.state = LexState(path=path, diags=diags, text=text, line_starts=line_starts_of(text))
    lx.lineno = 1
    lx.input(text)
    return lx


def tokenize(text: str, path: str = "<string>", diags: Diagnostics | None = None) -> list:
    """All tokens of `text` (for tests and tools).  Lexical errors go to `diags`."""
    diags = diags if diags is not None else Diagnostics()
    lx = new_lexer(text, path, diags)
    out = []
    try:
        while True:
            tok = lx.token()
            if tok is None:
                break
            out.append(tok)
    except LexAbort:
        pass
    return out
