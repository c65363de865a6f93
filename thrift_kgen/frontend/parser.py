"""PLY LALR(1) parser for the Thrift IDL, following Apache Thrift 0.2x's `thrifty.yy`.

Public API:

* `parse_text(text, path, diags) -> Program | None`
* `parse_file(path, diags) -> Program | None`

Both return None when any error was reported (to `diags`); warnings do not
stop the parse.  Nothing but the resolver's facts is left out: includes are
recorded, not followed; names are recorded as written, not looked up.

What the parser fills in, as Apache's parser does:

* enum values: implicit value = previous + 1, starting at 0;
* field ids: a missing (or non-positive) id gets -1, -2, ... within its field
  list, with a warning; `explicit_id` says which;
* doctext (`/** ... */`) attaches to the next definition, field, enum value or
  function, with Apache's exact rules (`CaptureDocText`/`DestroyDocText`), and
  the file-level doctext (`Program.doc`) by Apache's candidate rules.

Apache's semantic rules (dotted names, the i32 range of enum values, union members,
`optional`/`required` in argument and throws lists) are checked in one place, the
resolver, also for ASTs built by hand.

Locations: a definition, field, function or enum value is located at its
name; a type, constant value or annotation at its first token; a header
(include, cpp_include, namespace) at its keyword.

The grammar has no conflicts (checked by a test): it is Apache's grammar,
which bison builds without any.
"""

from __future__ import annotations

import copy
import os
import sys

import ply.yacc as yacc

from . import ast
from .ast import Location
from .diagnostics import CompileError, Diagnostics
from .lexer import KEYWORDS, LexAbort, new_lexer, tokens  # noqa: F401  (tokens: for PLY)

start = "program"

# Declarations Apache 0.17 refused (and later dropped): the replacement.
REMOVED_DECLARATIONS = {
    "cpp_namespace": "namespace cpp",
    "java_package": "namespace java",
    "delphi_namespace": "namespace delphi",
    "php_namespace": "namespace php",
    "py_module": "namespace py",
    "perl_package": "namespace perl",
    "ruby_namespace": "namespace rb",
    "smalltalk_category": "namespace st",
    "smalltalk_prefix": "namespace st",
    "smalltalk.category": "namespace st",
    "smalltalk.prefix": "namespace st",
    "xsd_namespace": "namespace xsd",
    "csharp_namespace": "namespace netstd",
    "cocoa_prefix": "namespace cocoa",
}
REMOVED_TYPES = {"slist": "string", "senum": "string"}

SHRT_MIN, SHRT_MAX = -32768, 32767


class _Abort(Exception):
    """Stop parsing: an error that ends the parse has been reported."""


class ParseState:
    """Per-parse state that Apache keeps in globals (y_field_val, y_enum_val...)."""

    def __init__(self, path: str, diags: Diagnostics):
        self.path = path
        self.diags = diags
        self.field_val = -1
        self.enum_val = -1
        self.byte_warned = False
        self.program = ast.Program(loc=Location(path, 1, 1), path=path, name=program_name(path))


def program_name(path: str) -> str:
    base = os.path.basename(path)
    if base.endswith(".thrift"):
        base = base[: -len(".thrift")]
    return base


def _ps(p) -> ParseState:
    return p.lexer.pstate


def _ls(p):
    return p.lexer.state


# --------------------------------------------------------------------------
# Doctext helpers (Apache's set_doc / declare_valid_program_doctext)
# --------------------------------------------------------------------------


def _set_doc(p, node, doc: str | None) -> None:
    if doc is None:
        return
    node.doc = doc
    ls = _ls(p)
    if ls.program_doc_lineno == ls.doctext_lineno and ls.program_doc_status == "STILL_CANDIDATE":
        ls.program_doc_status = "ALREADY_PROCESSED"


def _declare_valid_program_doctext(p) -> None:
    ls = _ls(p)
    if ls.program_doc_candidate is not None and ls.program_doc_status == "STILL_CANDIDATE":
        ls.program_doc_status = "ABSOLUTELY_SURE"
    else:
        ls.program_doc_status = "NO_PROGRAM_DOCTEXT"


# --------------------------------------------------------------------------
# Grammar
# --------------------------------------------------------------------------


def p_program(p):
    """program : header_list definition_list"""
    ls = _ls(p)
    prog = _ps(p).program
    if ls.program_doc_candidate is not None and ls.program_doc_status != "ALREADY_PROCESSED":
        prog.doc = ls.program_doc_candidate
        ls.program_doc_status = "ALREADY_PROCESSED"
    ls.doctext = None
    p[0] = prog


def p_capture_doc(p):
    """capture_doc :"""
    ls = _ls(p)
    p[0] = ls.doctext
    ls.doctext = None


def p_destroy_doc(p):
    """destroy_doc :"""
    _ls(p).doctext = None


def p_header_list(p):
    """header_list : header_list destroy_doc header
    |"""


def p_header_include(p):
    """header : INCLUDE LITERAL"""
    _declare_valid_program_doctext(p)
    _ps(p).program.includes.append(ast.Include(loc=p[1].loc, path=p[2].value))


def p_header_namespace(p):
    """header : NAMESPACE IDENTIFIER IDENTIFIER type_annotations"""
    _declare_valid_program_doctext(p)
    _ps(p).program.namespaces.append(
        ast.Namespace(loc=p[1].loc, scope=p[2].value, name=p[3].value, annotations=p[4])
    )


def p_header_namespace_star(p):
    """header : NAMESPACE '*' IDENTIFIER"""
    _declare_valid_program_doctext(p)
    _ps(p).program.namespaces.append(ast.Namespace(loc=p[1].loc, scope="*", name=p[3].value))


def p_header_cpp_include(p):
    """header : CPP_INCLUDE LITERAL"""
    _declare_valid_program_doctext(p)
    _ps(p).program.cpp_includes.append(ast.CppInclude(loc=p[1].loc, path=p[2].value))


def p_definition_list(p):
    """definition_list : definition_list capture_doc definition"""
    ps = _ps(p)
    d = p[3]
    _set_doc(p, d, p[2])
    d.program = ps.program
    ps.program.definitions.append(d)


def p_definition_list_empty(p):
    """definition_list :"""


def p_definition(p):
    """definition : const
    | typedef
    | enum
    | struct
    | xception
    | service"""
    p[0] = p[1]


def p_comma_or_semicolon_optional(p):
    """comma_or_semicolon_optional : ','
    | ';'
    |"""


def p_typedef(p):
    """typedef : TYPEDEF field_type IDENTIFIER type_annotations comma_or_semicolon_optional"""
    p[0] = ast.Typedef(loc=p[3].loc, name=p[3].value, type=p[2], annotations=p[4])


def p_enum(p):
    """enum : ENUM IDENTIFIER '{' enum_def_list '}' type_annotations"""
    e = ast.Enum(loc=p[2].loc, name=p[2].value, values=p[4], annotations=p[6])
    for v in e.values:
        v.enum = e
    p[0] = e


def p_enum_def_list(p):
    """enum_def_list : enum_def_list enum_def"""
    p[1].append(p[2])
    p[0] = p[1]


def p_enum_def_list_empty(p):
    """enum_def_list :"""
    _ps(p).enum_val = -1
    p[0] = []


def p_enum_def(p):
    """enum_def : capture_doc enum_value type_annotations comma_or_semicolon_optional"""
    v = p[2]
    _set_doc(p, v, p[1])
    v.annotations = p[3]
    p[0] = v


def p_enum_value_explicit(p):
    """enum_value : IDENTIFIER '=' INTCONSTANT"""
    ps = _ps(p)
    ps.enum_val = p[3].value
    p[0] = ast.EnumValue(loc=p[1].loc, name=p[1].value, value=ps.enum_val, explicit=True)


def p_enum_value_implicit(p):
    """enum_value : IDENTIFIER"""
    ps = _ps(p)
    ps.enum_val += 1
    p[0] = ast.EnumValue(loc=p[1].loc, name=p[1].value, value=ps.enum_val, explicit=False)


def p_const(p):
    """const : CONST field_type IDENTIFIER '=' const_value comma_or_semicolon_optional"""
    p[0] = ast.Const(loc=p[3].loc, name=p[3].value, type=p[2], value=p[5])


def p_const_value_int(p):
    """const_value : INTCONSTANT"""
    p[0] = ast.ConstInt(loc=p[1].loc, value=p[1].value)


def p_const_value_double(p):
    """const_value : DUBCONSTANT"""
    p[0] = ast.ConstDouble(loc=p[1].loc, value=p[1].value, text=p[1].text)


def p_const_value_literal(p):
    """const_value : LITERAL"""
    p[0] = ast.ConstString(loc=p[1].loc, value=p[1].value)


def p_const_value_identifier(p):
    """const_value : IDENTIFIER"""
    p[0] = ast.ConstRef(loc=p[1].loc, name=p[1].value)


def p_const_value_container(p):
    """const_value : const_list
    | const_map"""
    p[0] = p[1]


def p_const_list(p):
    """const_list : '[' const_list_contents ']'"""
    p[0] = ast.ConstList(loc=p[1].loc, items=p[2])


def p_const_list_contents(p):
    """const_list_contents : const_list_contents const_value comma_or_semicolon_optional"""
    p[1].append(p[2])
    p[0] = p[1]


def p_const_list_contents_empty(p):
    """const_list_contents :"""
    p[0] = []


def p_const_map(p):
    """const_map : '{' const_map_contents '}'"""
    p[0] = ast.ConstMap(loc=p[1].loc, items=p[2])


def p_const_map_contents(p):
    """const_map_contents : const_map_contents const_value ':' const_value comma_or_semicolon_optional"""
    p[1].append((p[2], p[4]))
    p[0] = p[1]


def p_const_map_contents_empty(p):
    """const_map_contents :"""
    p[0] = []


def p_struct_head(p):
    """struct_head : STRUCT
    | UNION"""
    p[0] = p[1]


def p_struct(p):
    """struct : struct_head IDENTIFIER xsd_all '{' field_list '}' type_annotations"""
    kind = ast.UNION if p[1].value == "union" else ast.STRUCT
    p[0] = ast.Struct(
        loc=p[2].loc,
        name=p[2].value,
        kind=kind,
        xsd_all=p[3],
        fields=p[5],
        annotations=p[7],
    )


def p_xsd_all(p):
    """xsd_all : XSD_ALL
    |"""
    p[0] = len(p) == 2


def p_xsd_optional(p):
    """xsd_optional : XSD_OPTIONAL
    |"""
    p[0] = len(p) == 2


def p_xsd_nillable(p):
    """xsd_nillable : XSD_NILLABLE
    |"""
    p[0] = len(p) == 2


def p_xsd_attributes(p):
    """xsd_attributes : XSD_ATTRS '{' field_list '}'
    |"""
    p[0] = p[3] if len(p) == 5 else None


def p_xception(p):
    """xception : EXCEPTION IDENTIFIER '{' field_list '}' type_annotations"""
    p[0] = ast.Struct(
        loc=p[2].loc,
        name=p[2].value,
        kind=ast.EXCEPTION,
        fields=p[4],
        annotations=p[6],
    )


def p_service(p):
    """service : SERVICE IDENTIFIER extends '{' function_list '}' type_annotations"""
    p[0] = ast.Service(
        loc=p[2].loc,
        name=p[2].value,
        extends=p[3],
        functions=p[5],
        annotations=p[7],
    )


def p_extends(p):
    """extends : EXTENDS IDENTIFIER
    |"""
    p[0] = p[2].value if len(p) == 3 else None


def p_function_list(p):
    """function_list : function_list function"""
    p[1].append(p[2])
    p[0] = p[1]


def p_function_list_empty(p):
    """function_list :"""
    p[0] = []


def p_function(p):
    """function : capture_doc oneway function_type IDENTIFIER '(' field_list ')' throws type_annotations comma_or_semicolon_optional"""
    fn = ast.Function(
        loc=p[4].loc,
        name=p[4].value,
        return_type=p[3],
        args=p[6],
        throws=p[8],
        oneway=p[2],
        annotations=p[9],
    )
    _set_doc(p, fn, p[1])
    p[0] = fn


def p_oneway(p):
    """oneway : ONEWAY
    | ASYNC
    |"""
    if len(p) == 2 and p[1].value == "async":
        _ps(p).diags.warning(p[1].loc, '"async" is deprecated.  It is called "oneway" now.')
    p[0] = len(p) == 2


def p_throws(p):
    """throws : THROWS '(' field_list ')'
    |"""
    p[0] = p[3] if len(p) == 5 else []


def p_field_list(p):
    """field_list : field_list field"""
    p[1].append(p[2])
    p[0] = p[1]


def p_field_list_empty(p):
    """field_list :"""
    _ps(p).field_val = -1
    p[0] = []


def p_field(p):
    """field : capture_doc field_identifier field_requiredness field_type field_reference field_name field_value xsd_optional xsd_nillable xsd_attributes type_annotations comma_or_semicolon_optional"""
    ps = _ps(p)
    fid, explicit = p[2]
    name_tok = p[6]
    if not explicit:
        ps.diags.warning(
            name_tok.loc,
            f"No field key specified for {name_tok.value}, resulting protocol may have"
            " conflicts or not be backwards compatible!",
        )
    f = ast.Field(
        loc=name_tok.loc,
        id=fid,
        name=name_tok.value,
        type=p[4],
        requiredness=p[3],
        default=p[7],
        explicit_id=explicit,
        reference=p[5],
        xsd_optional=p[8],
        xsd_nillable=p[9],
        xsd_attrs=p[10],
        annotations=p[11],
    )
    _set_doc(p, f, p[1])
    p[0] = f


def p_field_name(p):
    """field_name : IDENTIFIER
    | NAMESPACE
    | CPP_INCLUDE
    | INCLUDE
    | VOID
    | BOOL
    | BYTE
    | I8
    | I16
    | I32
    | I64
    | DOUBLE
    | STRING
    | BINARY
    | UUID
    | MAP
    | LIST
    | SET
    | ONEWAY
    | ASYNC
    | TYPEDEF
    | STRUCT
    | UNION
    | EXCEPTION
    | EXTENDS
    | THROWS
    | SERVICE
    | ENUM
    | CONST
    | REQUIRED
    | OPTIONAL"""
    p[0] = p[1]


def p_field_identifier(p):
    """field_identifier : INTCONSTANT ':'
    |"""
    ps = _ps(p)
    if len(p) == 3:
        tok = p[1]
        value = tok.value
        if value <= 0:
            ps.diags.warning(tok.loc, f"Nonpositive value ({value}) not allowed as a field key.")
            fid, explicit = ps.field_val, False
            ps.field_val -= 1
        else:
            fid, explicit = value, True
        loc = tok.loc
    else:
        fid, explicit = ps.field_val, False
        ps.field_val -= 1
        loc = None
    if not SHRT_MIN <= fid <= SHRT_MAX:
        ps.diags.warning(
            loc or Location(ps.path, p.lexer.state.loc(p.lexer.lexpos).line, 0),
            f"Field key ({fid}) exceeds allowed range ({SHRT_MIN}..{SHRT_MAX}).",
        )
    p[0] = (fid, explicit)


def p_field_reference(p):
    """field_reference : '&'
    |"""
    p[0] = len(p) == 2


def p_field_requiredness(p):
    """field_requiredness : REQUIRED
    | OPTIONAL
    |"""
    if len(p) == 1:
        p[0] = ast.DEFAULT
    else:
        p[0] = ast.REQUIRED if p[1].value == "required" else ast.OPTIONAL


def p_field_value(p):
    """field_value : '=' const_value
    |"""
    p[0] = p[2] if len(p) == 3 else None


def p_function_type(p):
    """function_type : field_type"""
    p[0] = p[1]


def p_function_type_void(p):
    """function_type : VOID"""
    p[0] = None


def p_field_type_identifier(p):
    """field_type : IDENTIFIER"""
    tok = p[1]
    if tok.value in REMOVED_TYPES:
        _ps(p).diags.error(
            tok.loc,
            f'"{tok.value}" is no longer supported, use "{REMOVED_TYPES[tok.value]}" instead',
        )
    p[0] = ast.TypeRef(loc=tok.loc, name=tok.value)


def p_field_type(p):
    """field_type : base_type
    | container_type"""
    p[0] = p[1]


def p_base_type(p):
    """base_type : simple_base_type type_annotations"""
    p[1].annotations = p[2]
    p[0] = p[1]


def p_simple_base_type(p):
    """simple_base_type : STRING
    | BINARY
    | UUID
    | BOOL
    | BYTE
    | I8
    | I16
    | I32
    | I64
    | DOUBLE"""
    tok = p[1]
    if tok.value == "byte":
        ps = _ps(p)
        if not ps.byte_warned:
            ps.byte_warned = True
            ps.diags.warning(
                tok.loc,
                'The "byte" type is a compatibility alias for "i8". Use "i8" to emphasize'
                " the signedness of this type.",
            )
    p[0] = ast.BaseType(loc=tok.loc, name=tok.value)


def p_container_type(p):
    """container_type : simple_container_type type_annotations"""
    p[1].annotations = p[2]
    p[0] = p[1]


def p_simple_container_type(p):
    """simple_container_type : map_type
    | set_type
    | list_type"""
    p[0] = p[1]


def p_map_type(p):
    """map_type : MAP cpp_type '<' field_type ',' field_type '>'"""
    p[0] = ast.MapType(loc=p[1].loc, key=p[4], value=p[6], cpp_type=p[2])


def p_set_type(p):
    """set_type : SET cpp_type '<' field_type '>'"""
    p[0] = ast.SetType(loc=p[1].loc, elem=p[4], cpp_type=p[2])


def p_list_type(p):
    """list_type : LIST cpp_type '<' field_type '>' cpp_type"""
    cpp = p[2]
    if p[6] is not None:
        ps = _ps(p)
        ps.diags.warning(
            p[1].loc,
            "The syntax 'list<type> cpp_type \"c++ type\"' is deprecated."
            " Use 'list cpp_type \"c++ type\" <type>' instead.",
        )
        if cpp is not None:
            ps.diags.warning(p[1].loc, f"Two cpp_types clauses at list<{cpp}>")
        cpp = p[6]
    p[0] = ast.ListType(loc=p[1].loc, elem=p[4], cpp_type=cpp)


def p_cpp_type(p):
    """cpp_type : CPP_TYPE LITERAL
    |"""
    p[0] = p[2].value if len(p) == 3 else None


def p_type_annotations(p):
    """type_annotations : '(' type_annotation_list ')'
    |"""
    p[0] = p[2] if len(p) == 4 else []


def p_type_annotation_list(p):
    """type_annotation_list : type_annotation_list type_annotation"""
    p[1].append(p[2])
    p[0] = p[1]


def p_type_annotation_list_empty(p):
    """type_annotation_list :"""
    p[0] = []


def p_type_annotation(p):
    """type_annotation : IDENTIFIER type_annotation_value comma_or_semicolon_optional"""
    p[0] = ast.Annotation(loc=p[1].loc, name=p[1].value, value=p[2])


def p_type_annotation_value(p):
    """type_annotation_value : '=' LITERAL
    |"""
    p[0] = p[2].value if len(p) == 3 else None


def p_error(tok):  # pragma: no cover - replaced per parse by _ErrorHandler
    raise _Abort()


# --------------------------------------------------------------------------
# Error reporting
# --------------------------------------------------------------------------

_TOKEN_NAMES = {v: k for k, v in KEYWORDS.items()}
_TOKEN_NAMES.update(
    {
        "IDENTIFIER": "identifier",
        "LITERAL": "string literal",
        "INTCONSTANT": "integer",
        "DUBCONSTANT": "double",
        "$end": "end of file",
    }
)


def _describe(ttype: str) -> str:
    name = _TOKEN_NAMES.get(ttype)
    if name is None:
        return f"'{ttype}'"
    if ttype in KEYWORDS.values():
        return f"'{name}'"
    return name


_BASE_TYPE_TOKENS = {"STRING", "BINARY", "UUID", "BOOL", "BYTE", "I8", "I16", "I32", "I64", "DOUBLE"}
_GROUPS = [
    ("a definition", {"CONST", "TYPEDEF", "ENUM", "STRUCT", "UNION", "EXCEPTION", "SERVICE"}),
    ("a header (include, cpp_include, namespace)", {"INCLUDE", "CPP_INCLUDE", "NAMESPACE"}),
    ("a field name", set(KEYWORDS.values()) - {"CPP_TYPE", "XSD_ALL", "XSD_OPTIONAL", "XSD_NILLABLE", "XSD_ATTRS"} | {"IDENTIFIER"}),
    ("a type", _BASE_TYPE_TOKENS | {"IDENTIFIER", "MAP", "LIST", "SET"}),
    ("a constant value", {"INTCONSTANT", "DUBCONSTANT", "LITERAL", "IDENTIFIER", "[", "{"}),
]


def _expecting(expected: list[str]) -> str:
    """`, expecting ...` for a syntax error, or "" when the list would be too long."""
    rest = set(expected)
    parts = []
    for label, group in _GROUPS:
        if group <= rest:
            parts.append(label)
            rest -= group
    parts += [_describe(t) for t in sorted(rest)]
    if not parts or len(parts) > 6:
        return ""
    if len(parts) == 1:
        return ", expecting " + parts[0]
    return ", expecting " + ", ".join(parts[:-1]) + " or " + parts[-1]


class _ErrorHandler:
    def __init__(self, parser, lexer, path: str, diags: Diagnostics):
        self.parser = parser
        self.lexer = lexer
        self.path = path
        self.diags = diags

    def expected(self) -> list[str]:
        try:
            state = self.parser.statestack[-1]
            acts = self.parser.action[state]
        except (AttributeError, IndexError, KeyError):
            return []
        return sorted(acts)

    def __call__(self, tok):
        hint = _expecting(self.expected())
        if tok is None:
            ls = self.lexer.state
            end = len(ls.text.rstrip())
            loc = ls.loc(end) if end > 0 else Location(self.path, 1, 1)
            self.diags.error(loc, "syntax error, unexpected end of file" + hint)
        else:
            t = tok.value
            text = t.text
            if tok.type == "LITERAL":
                shown = text
            else:
                shown = f"'{text}'"
            msg = f"syntax error, unexpected {shown}"
            if tok.type == "IDENTIFIER" and text in REMOVED_DECLARATIONS:
                msg += (
                    f": '{text}' is no longer supported, use"
                    f" '{REMOVED_DECLARATIONS[text]}' instead"
                )
            elif tok.type == "IDENTIFIER" and text in REMOVED_TYPES:
                msg += f': "{text}" is no longer supported, use "{REMOVED_TYPES[text]}" instead'
            else:
                msg += hint
            self.diags.error(t.loc, msg)
        raise _Abort()


# --------------------------------------------------------------------------
# Building the parser (once per process) and parsing
# --------------------------------------------------------------------------

TABMODULE = "thrift_kgen.frontend._parsetab"
_HERE = os.path.dirname(os.path.abspath(__file__))
_base_parser = None


def _build(write_tables: bool = False, debug: bool = False):
    return yacc.yacc(
        module=sys.modules[__name__],
        tabmodule=TABMODULE,
        outputdir=_HERE,
        write_tables=write_tables,
        debug=debug,
        errorlog=yacc.NullLogger(),
    )


def base_parser():
    """The process-wide LALR parser (tables from `_parsetab.py` when fresh)."""
    global _base_parser
    if _base_parser is None:
        # No lock: a race builds the (read-only) tables twice, harmlessly.
        parser = _build()
        _bison_default_reductions(parser)
        _base_parser = parser
    return _base_parser


def _bison_default_reductions(parser) -> None:
    """Reduce without reading a lookahead wherever bison does.

    PLY skips the lookahead only in states with a single table entry; bison in
    every state whose only action is one reduction (whatever the lookahead).
    The difference is visible: Apache's doctext rules depend on how far the
    lexer has read when a rule is reduced (a `/** */` after `include "x"` is
    not the program doc, one after `namespace a b` is).
    """
    defaulted = {}
    for state, actions in parser.action.items():
        values = set(actions.values())
        if len(values) == 1:
            (v,) = values
            if v < 0:  # a reduction (PLY: negative rule number)
                defaulted[state] = v
    parser.defaulted_states = defaulted


def parse_text(text: str, path: str, diags: Diagnostics) -> ast.Program | None:
    """Parse one file's text.  Errors and warnings go to `diags`.

    Returns the Program, or None if any error was reported while parsing it.
    Never raises (except for KeyboardInterrupt and the like).
    """
    errors_before = diags.error_count
    text = text.removeprefix("\ufeff")
    try:
        lexer = new_lexer(text, path, diags)
        lexer.pstate = ParseState(path, diags)
        parser = copy.copy(base_parser())
        parser.errorfunc = _ErrorHandler(parser, lexer, path, diags)
        program = parser.parse(input=text, lexer=lexer, tracking=False)
    except (_Abort, LexAbort, CompileError):
        return None
    except RecursionError:
        _internal(diags, path, "input nested too deeply")
        return None
    except MemoryError:
        _internal(diags, path, "out of memory while parsing")
        return None
    except Exception as e:  # never let a traceback escape
        _internal(diags, path, f"internal parser error: {type(e).__name__}: {e}")
        return None
    if program is None or diags.error_count > errors_before:
        return None
    return program


def _internal(diags: Diagnostics, path: str, msg: str) -> None:
    try:
        diags.error(Location(path, 1, 1), msg)
    except CompileError:
        pass


def parse_file(path, diags: Diagnostics) -> ast.Program | None:
    """Read and parse a .thrift file; registers its text with `diags`."""
    path = os.fspath(path)
    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        _internal(diags, path, f"cannot read file: {e.strerror or e}")
        return None
    bom = data.startswith(b"\xef\xbb\xbf")  # Apache accepts a UTF-8 byte-order mark
    if bom:
        data = data[3:]
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        # The excerpt shows the bad bytes escaped (diagnostics.printable_excerpt).
        diags.add_source(path, data.decode("utf-8", errors="surrogateescape"))
        line_start = data.rfind(b"\n", 0, e.start) + 1
        line = data[: e.start].count(b"\n") + 1
        col = len(data[line_start : e.start].decode("utf-8")) + 1
        try:
            diags.error(Location(path, line, col), f"file is not valid UTF-8 (byte 0x{data[e.start]:02x})")
        except CompileError:
            pass
        return None
    diags.add_source(path, text)
    return parse_text(text, path, diags)


def tables_fresh() -> bool:
    """Whether the committed `_parsetab.py` matches the grammar in this module."""
    import importlib

    try:
        tab = importlib.import_module(TABMODULE)
    except ImportError:
        return False
    pdict = {k: getattr(sys.modules[__name__], k) for k in dir(sys.modules[__name__])}
    pinfo = yacc.ParserReflect(pdict, log=yacc.NullLogger())
    pinfo.get_all()
    return getattr(tab, "_lr_signature", None) == pinfo.signature()


def write_tables() -> str:
    """Regenerate `_parsetab.py` (run after changing the grammar)."""
    tab = os.path.join(_HERE, "_parsetab.py")
    if os.path.exists(tab):
        os.remove(tab)
    sys.modules.pop(TABMODULE, None)
    _build(write_tables=True)
    return tab


if __name__ == "__main__":  # python -m thrift_kgen.frontend.parser [--write-tables | FILE...]
    if sys.argv[1:] == ["--write-tables"]:
        print(write_tables())
    else:
        d = Diagnostics()
        for arg in sys.argv[1:]:
            prog = parse_file(arg, d)
            print(arg, "OK" if prog else "FAILED")
        d.emit()
