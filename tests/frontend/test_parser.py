"""The Thrift parser: every construct of the grammar, its AST, its locations, its errors."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest

from thrift_kgen.frontend import ast
from thrift_kgen.frontend import parser as P
from thrift_kgen.frontend.lexer import MAX_NESTING
from thrift_kgen.frontend.diagnostics import Diagnostics
from thrift_kgen.frontend.parser import parse_file, parse_text
from thrift_kgen.frontend.printer import dump, print_program

F = "t.thrift"


def parse(text: str, ok: bool = True):
    d = Diagnostics()
    d.add_source(F, text)
    prog = parse_text(text, F, d)
    if ok:
        assert prog is not None, "\n".join(d.render(x) for x in d.errors)
    return prog, d


def parse_err(text: str):
    prog, d = parse(text, ok=False)
    assert prog is None
    assert d.errors
    return d.errors[0]


def at(node) -> tuple[int, int]:
    return (node.loc.line, node.loc.col)


def messages(d: Diagnostics, severity: str = "warning") -> list[str]:
    return [x.message for x in d.items if x.severity == severity]


# ---------------------------------------------------------------------------
# Headers
# ---------------------------------------------------------------------------


def test_include_and_cpp_include():
    prog, _ = parse('include "shared.thrift"\ncpp_include "<vector>"\ninclude \'other/x.thrift\'\n')
    assert [(i.path, at(i)) for i in prog.includes] == [("shared.thrift", (1, 1)), ("other/x.thrift", (3, 1))]
    assert [(c.path, at(c)) for c in prog.cpp_includes] == [("<vector>", (2, 1))]
    assert all(i.program is None for i in prog.includes)  # the resolver follows includes


def test_namespace_forms():
    prog, _ = parse(
        "namespace cpp thrift.test\n"
        "namespace py.twisted ThriftTest\n"
        "namespace * all.of.them\n"
        "namespace xsd test (uri = 'http://thrift.apache.org/ns/ThriftTest', x)\n"
        "namespace java com.example.struct\n"
    )
    got = [(n.scope, n.name, [(a.name, a.value) for a in n.annotations], at(n)) for n in prog.namespaces]
    assert got == [
        ("cpp", "thrift.test", [], (1, 1)),
        ("py.twisted", "ThriftTest", [], (2, 1)),
        ("*", "all.of.them", [], (3, 1)),
        ("xsd", "test", [("uri", "http://thrift.apache.org/ns/ThriftTest"), ("x", None)], (4, 1)),
        ("java", "com.example.struct", [], (5, 1)),
    ]


def test_headers_must_come_before_definitions():
    e = parse_err('struct A {}\ninclude "b.thrift"\n')
    assert e.message.startswith("syntax error, unexpected 'include'")
    assert (e.loc.line, e.loc.col) == (2, 1)


def test_no_separator_after_include():
    # Apache refuses `include "x";` (thriftpy2's type_ref.thrift / value_ref.thrift)
    e = parse_err('include "x.thrift";\n')
    assert e.message.startswith("syntax error, unexpected ';'")
    assert (e.loc.line, e.loc.col) == (1, 19)


@pytest.mark.parametrize(
    "word, instead",
    [
        ("php_namespace", "namespace php"),
        ("xsd_namespace", "namespace xsd"),
        ("smalltalk.category", "namespace st"),
        ("smalltalk.prefix", "namespace st"),
        ("smalltalk_category", "namespace st"),
        ("cpp_namespace", "namespace cpp"),
        ("java_package", "namespace java"),
        ("py_module", "namespace py"),
    ],
)
def test_removed_namespace_declarations_say_what_to_write(word, instead):
    e = parse_err(f"\n{word} foo.bar\n")
    assert f"'{word}' is no longer supported, use '{instead}' instead" in e.message
    assert (e.loc.line, e.loc.col) == (2, 1)


# ---------------------------------------------------------------------------
# Constants
# ---------------------------------------------------------------------------


def test_const_scalars():
    prog, _ = parse(
        "const i32 a = 42\n"
        "const i64 b = -0x1F;\n"
        "const double c = 1.5e3,\n"
        "const double d = -7\n"
        "const string e = 'it\\'s'\n"
        "const bool f = true\n"
        "const MyEnum g = MyEnum.VALUE\n"
        "const i32 h = other.CONST\n"
    )
    c = {x.name: x for x in prog.consts}
    assert dump(c["a"].value) == {"node": "ConstInt", "value": 42}
    assert c["b"].value.value == -31
    assert (c["c"].value.value, c["c"].value.text) == (1500.0, "1.5e3")
    assert isinstance(c["d"].value, ast.ConstInt) and c["d"].value.value == -7
    assert c["e"].value.value == "it's"
    assert dump(c["f"].value) == {"node": "ConstInt", "value": 1}
    assert dump(c["g"].value) == {"node": "ConstRef", "name": "MyEnum.VALUE"}
    assert c["h"].value.name == "other.CONST"
    assert at(c["a"]) == (1, 11) and at(c["a"].value) == (1, 15)
    assert isinstance(c["g"].type, ast.TypeRef) and c["g"].type.name == "MyEnum"


def test_const_list_and_map_literals_with_any_separators():
    prog, _ = parse(
        "const list<i32> l = [1, 2; 3 4,]\n"
        "const map<string, list<i32>> m = {'a': [1], \"b\": [] ; 'c' : [2,3]}\n"
        "const Point p = {'x': 1, 'y': 2}\n"
        "const set<string> s = {}\n"
        "const list<map<i32,i32>> lm = [{1: 2}, {}]\n"
    )
    c = {x.name: x for x in prog.consts}
    assert [i.value for i in c["l"].value.items] == [1, 2, 3, 4]
    assert at(c["l"].value) == (1, 21)
    m = c["m"].value
    assert [(k.value, [i.value for i in v.items]) for k, v in m.items] == [("a", [1]), ("b", []), ("c", [2, 3])]
    assert isinstance(c["p"].value, ast.ConstMap)
    assert dump(c["s"].value) == {"node": "ConstMap", "items": []}
    assert [len(x.items) for x in c["lm"].value.items] == [1, 0]


def test_const_takes_no_annotations():
    # thriftpy2's annotations.thrift: Apache refuses it at the '('
    e = parse_err('const string id = "id" (name="LANG_ID");\n')
    assert e.message.startswith("syntax error, unexpected '('")
    assert (e.loc.line, e.loc.col) == (1, 24)


def test_const_needs_a_value():
    e = parse_err("const i32 a = 1\nconst i32 b = 2\nconst i32 c = \n")
    assert e.message.startswith("syntax error, unexpected end of file")
    assert "expecting a constant value" in e.message
    assert e.loc.line == 3


# ---------------------------------------------------------------------------
# Typedefs and types
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bool", "byte", "i8", "i16", "i32", "i64", "double", "string", "binary", "uuid"])
def test_every_base_type(name):
    prog, _ = parse(f"typedef {name} T\n")
    t = prog.typedefs[0].type
    assert isinstance(t, ast.BaseType) and t.name == name and at(t) == (1, 9)


def test_byte_warns_once_per_file():
    _, d = parse("typedef byte A\ntypedef byte B\n")
    assert messages(d) == [
        'The "byte" type is a compatibility alias for "i8". Use "i8" to emphasize the signedness of this type.'
    ]
    assert (d.warnings[0].loc.line, d.warnings[0].loc.col) == (1, 9)


def test_typedef_with_annotations_and_separator():
    prog, _ = parse(
        "typedef string ( unicode.encoding = \"UTF-16\" ) non_latin_string (foo=\"bar\"),\n"
        "typedef MyStruct Alias;\n"
        "typedef shared.Thing Remote\n"
    )
    t = prog.typedefs
    assert [x.name for x in t] == ["non_latin_string", "Alias", "Remote"]
    assert [(a.name, a.value) for a in t[0].type.annotations] == [("unicode.encoding", "UTF-16")]
    assert [(a.name, a.value) for a in t[0].annotations] == [("foo", "bar")]
    assert dump(t[1].type) == {"node": "TypeRef", "name": "MyStruct", "annotations": []}
    assert t[2].type.name == "shared.Thing"
    assert at(t[0]) == (1, 48) and at(t[1]) == (2, 18)


def test_nested_containers_and_cpp_type():
    prog, _ = parse(
        "typedef map<string, list<set<i32>>> A\n"
        "typedef list cpp_type \"std::list<int>\" <i32> B\n"
        "typedef set cpp_type 'S' <string> C\n"
        "typedef map cpp_type 'M' <i8, i16> D\n"
        "typedef list<double (cpp.fixed_point = \"16\")> (cpp.template = \"std::list\") E\n"
    )
    a, b, c, d, e = (x.type for x in prog.typedefs)
    assert isinstance(a, ast.MapType) and a.key.name == "string"
    assert isinstance(a.value, ast.ListType) and isinstance(a.value.elem, ast.SetType)
    assert a.value.elem.elem.name == "i32"
    assert at(a) == (1, 9) and at(a.value) == (1, 21) and at(a.value.elem) == (1, 26)
    assert (type(b), b.cpp_type, b.elem.name) == (ast.ListType, "std::list<int>", "i32")
    assert (type(c), c.cpp_type) == (ast.SetType, "S")
    assert (type(d), d.cpp_type, d.key.name, d.value.name) == (ast.MapType, "M", "i8", "i16")
    assert [(x.name, x.value) for x in e.annotations] == [("cpp.template", "std::list")]
    assert [(x.name, x.value) for x in e.elem.annotations] == [("cpp.fixed_point", "16")]


def test_deprecated_trailing_list_cpp_type_warns():
    prog, d = parse("typedef list<i32> cpp_type \"std::vector<int>\" V\n")
    assert prog.typedefs[0].type.cpp_type == "std::vector<int>"
    assert any("deprecated" in m for m in messages(d))


@pytest.mark.parametrize("removed", ["slist", "senum"])
def test_removed_types_say_what_to_write(removed):
    e = parse_err(f"struct S {{\n  1: {removed} x\n}}\n")
    assert e.message == f'"{removed}" is no longer supported, use "string" instead'
    assert (e.loc.line, e.loc.col) == (2, 6)


# ---------------------------------------------------------------------------
# Enums
# ---------------------------------------------------------------------------


def test_enum_explicit_and_implicit_values():
    prog, _ = parse(
        "enum E {\n"
        "  A,\n"
        "  B = 5;\n"
        "  C\n"
        "  D = -3\n"
        "  E (weekend = \"yes\"),\n"
        "  F = 0x10\n"
        "  G\n"
        "} (foo.bar = \"baz\")\n"
    )
    e = prog.enums[0]
    assert [(v.name, v.value, v.explicit) for v in e.values] == [
        ("A", 0, False),
        ("B", 5, True),
        ("C", 6, False),
        ("D", -3, True),
        ("E", -2, False),
        ("F", 16, True),
        ("G", 17, False),
    ]
    assert all(v.enum is e for v in e.values)
    assert [(a.name, a.value) for a in e.values[4].annotations] == [("weekend", "yes")]
    assert [(a.name, a.value) for a in e.annotations] == [("foo.bar", "baz")]
    assert at(e) == (1, 6) and at(e.values[1]) == (3, 3)


def test_enum_value_must_be_an_integer():
    e = parse_err("enum E { A = B }\n")
    assert e.message == "syntax error, unexpected 'B', expecting integer"


def test_empty_enum():
    prog, _ = parse("enum E {}\n")
    assert prog.enums[0].values == []


# ---------------------------------------------------------------------------
# Structs, unions, exceptions, fields
# ---------------------------------------------------------------------------


def test_struct_fields_full_syntax():
    prog, d = parse(
        "struct S xsd_all {\n"
        "  1: required i32 a = 5,\n"
        "  2: optional string b = 'x';\n"
        "  3: list<S> & c\n"
        "  4: i64 d xsd_optional xsd_nillable\n"
        "  5: Foo e xsd_attrs { 1: i32 attr1 2: string attr2 } (anno = 'v', flag)\n"
        "  6: map<i32, string> f = {1: 'one'}\n"
        "}\n"
    )
    s = prog.structs[0]
    assert (s.name, s.kind, s.xsd_all, at(s)) == ("S", ast.STRUCT, True, (1, 8))
    got = [(f.id, f.name, f.requiredness, f.explicit_id, at(f)) for f in s.fields]
    assert got == [
        (1, "a", ast.REQUIRED, True, (2, 19)),
        (2, "b", ast.OPTIONAL, True, (3, 22)),
        (3, "c", ast.DEFAULT, True, (4, 16)),
        (4, "d", ast.DEFAULT, True, (5, 10)),
        (5, "e", ast.DEFAULT, True, (6, 10)),
        (6, "f", ast.DEFAULT, True, (7, 23)),
    ]
    a, b, c, dd, e, f = s.fields
    assert a.default.value == 5 and b.default.value == "x" and isinstance(f.default, ast.ConstMap)
    assert c.reference and not a.reference
    assert dd.xsd_optional and dd.xsd_nillable and not a.xsd_optional
    assert [(x.id, x.name) for x in e.xsd_attrs] == [(1, "attr1"), (2, "attr2")]
    assert a.xsd_attrs is None
    assert [(x.name, x.value) for x in e.annotations] == [("anno", "v"), ("flag", None)]
    assert isinstance(e.type, ast.TypeRef) and e.type.name == "Foo"
    assert not d.warnings


def test_missing_field_ids_are_negative_with_a_warning():
    prog, d = parse("struct S {\n  i32 a\n  5: i32 b\n  string c\n}\nstruct T { i32 x }\n")
    s, t = prog.structs
    assert [(f.id, f.explicit_id) for f in s.fields] == [(-1, False), (5, True), (-2, False)]
    assert [(f.id, f.explicit_id) for f in t.fields] == [(-1, False)]  # counted per struct
    assert messages(d) == [
        f"No field key specified for {n}, resulting protocol may have conflicts or not be backwards compatible!"
        for n in ("a", "c", "x")
    ]
    assert [(w.loc.line, w.loc.col) for w in d.warnings] == [(2, 7), (4, 10), (6, 16)]


def test_nonpositive_field_id_is_auto_assigned_with_a_warning():
    prog, d = parse("struct S { 0: i32 a, -5: i32 b, i32 c }\n")
    assert [(f.id, f.explicit_id) for f in prog.structs[0].fields] == [(-1, False), (-2, False), (-3, False)]
    assert "Nonpositive value (0) not allowed as a field key." in messages(d)
    assert "Nonpositive value (-5) not allowed as a field key." in messages(d)


def test_field_id_out_of_i16_range_warns():
    prog, d = parse("struct S { 40000: i32 a }\n")
    assert prog.structs[0].fields[0].id == 40000
    assert "Field key (40000) exceeds allowed range (-32768..32767)." in messages(d)


KEYWORD_FIELD_NAMES = [
    "namespace", "cpp_include", "include", "void", "bool", "byte", "i8", "i16", "i32", "i64",
    "double", "string", "binary", "uuid", "map", "list", "set", "oneway", "async", "typedef",
    "struct", "union", "exception", "extends", "throws", "service", "enum", "const",
    "required", "optional",
]  # fmt: skip


@pytest.mark.parametrize("word", KEYWORD_FIELD_NAMES)
def test_keywords_allowed_as_field_names(word):
    # THRIFT-5626 (Apache >= 0.18): every keyword but cpp_type and xsd_* can name a field.
    prog, _ = parse(f"struct S {{ 1: i32 {word}, 2: {word if word in ('i32', 'string') else 'i64'} x }}\n")
    assert prog.structs[0].fields[0].name == word


@pytest.mark.parametrize("word", ["cpp_type", "xsd_all", "xsd_optional", "xsd_nillable", "xsd_attrs"])
def test_keywords_not_allowed_as_field_names(word):
    e = parse_err(f"struct S {{ 1: i32 {word} }}\n")
    assert e.message.startswith(f"syntax error, unexpected '{word}'")


@pytest.mark.parametrize("text", ["struct string {}", "enum list {}", "service void {}", "const i32 map = 1", "typedef i32 struct"])
def test_keywords_not_allowed_as_definition_names(text):
    e = parse_err(text + "\n")
    assert e.message.startswith("syntax error, unexpected")


def test_exception():
    prog, _ = parse("exception Oops {\n  1: i32 code\n  2: string msg\n} (foo = 'bar')\n")
    x = prog.structs[0]
    assert (x.kind, x.name, [f.name for f in x.fields], x.annotations[0].value) == (ast.EXCEPTION, "Oops", ["code", "msg"], "bar")


def test_no_separator_after_struct():
    e = parse_err("struct A {}\n;\n")
    assert e.message.startswith("syntax error, unexpected ';'")
    assert "expecting a definition" in e.message
    assert (e.loc.line, e.loc.col) == (2, 1)


def test_extra_closing_brace():
    # thriftpy2's e_grammar_error_token.thrift
    e = parse_err("struct Foo {\n    1: required i32 a\n}}\n")
    assert e.message.startswith("syntax error, unexpected '}'")
    assert (e.loc.line, e.loc.col) == (3, 2)


# ---------------------------------------------------------------------------
# Services
# ---------------------------------------------------------------------------


def test_service_functions():
    prog, d = parse(
        "service Calc extends shared.SharedService {\n"
        "  void ping(),\n"
        "  i32 add(1: i32 num1, 2: i32 num2) (op = '+');\n"
        "  oneway void zip()\n"
        "  list<string> calc(1: i32 logid, 2: Work w) throws (1: InvalidOperation ouch, 2: shared.Err e)\n"
        "  async void old(1: optional i32 x)\n"
        "} (a.b = 'c')\n"
        "service Base {}\n"
    )
    s, base = prog.services
    assert (s.name, s.extends, at(s)) == ("Calc", "shared.SharedService", (1, 9))
    assert base.extends is None and base.functions == []
    ping, add, zip_, calc, old = s.functions
    assert (ping.name, ping.return_type, ping.oneway, ping.args, ping.throws) == ("ping", None, False, [], [])
    assert [(a.id, a.name, a.type.name) for a in add.args] == [(1, "num1", "i32"), (2, "num2", "i32")]
    assert [(x.name, x.value) for x in add.annotations] == [("op", "+")]
    assert zip_.oneway and at(zip_) == (4, 15)
    assert isinstance(calc.return_type, ast.ListType)
    assert [(t.id, t.name, t.type.name) for t in calc.throws] == [(1, "ouch", "InvalidOperation"), (2, "e", "shared.Err")]
    assert old.oneway
    assert old.args[0].requiredness == ast.OPTIONAL  # as written (the resolver drops it: test_resolver.py)
    assert [(x.name, x.value) for x in s.annotations] == [("a.b", "c")]
    assert messages(d) == ['"async" is deprecated.  It is called "oneway" now.']


def test_function_arguments_get_negative_ids_per_list():
    prog, _ = parse("service S { void f(i32 a, i32 b) throws (E e), void g(i32 c) }\n")
    f, g = prog.services[0].functions
    assert [a.id for a in f.args] == [-1, -2]
    assert [t.id for t in f.throws] == [-1]
    assert [a.id for a in g.args] == [-1]


def test_unclosed_argument_list():
    e = parse_err("service S {\n  void f(1: i32 a\n}\n")
    assert e.message.startswith("syntax error, unexpected '}'")
    assert "')'" in e.message
    assert (e.loc.line, e.loc.col) == (3, 1)


# ---------------------------------------------------------------------------
# Doctext
# ---------------------------------------------------------------------------


def test_doctext_attaches_to_definitions_fields_values_functions():
    prog, _ = parse(
        "include 'x.thrift'\n"
        "/** The struct. */\n"
        "struct S {\n"
        "  /** field a */\n"
        "  1: i32 a\n"
        "  // plain comment: no doc\n"
        "  2: i32 b\n"
        "}\n"
        "/**\n * The enum.\n * Two lines.\n */\n"
        "enum E {\n  /** one */ ONE = 1\n  TWO\n}\n"
        "/** svc */ service X {\n  /** fn */ void f(/** arg */ 1: i32 x)\n}\n"
        "/** c */ const i32 C = 1\n"
        "/** t */ typedef i32 T\n"
    )
    s, e, x, c, t = prog.definitions
    assert s.doc == "The struct.\n"
    assert [f.doc for f in s.fields] == ["field a\n", None]
    assert e.doc == "The enum.\nTwo lines.\n"
    assert [v.doc for v in e.values] == ["one\n", None]
    assert x.doc == "svc\n" and x.functions[0].doc == "fn\n" and x.functions[0].args[0].doc == "arg\n"
    assert (c.doc, t.doc) == ("c\n", "t\n")
    assert prog.doc is None


def test_program_doctext_before_the_first_header():
    prog, _ = parse("/** Program doc. */\nnamespace py x\n/** S doc */\nstruct S {}\n")
    assert prog.doc == "Program doc.\n"
    assert prog.structs[0].doc == "S doc\n"


def test_doctext_before_a_header_is_not_a_definition_doc():
    prog, _ = parse("include 'a.thrift'\n/** lost */\ncpp_include 'x'\nstruct S {}\n")
    assert prog.doc is None and prog.structs[0].doc is None


def test_program_doctext_apache_quirks():
    # Without headers, Apache gives the first doctext to the program as well as to
    # the first definition (its doctext line check compares with a later doctext).
    prog, _ = parse("/** doc A */\nstruct A {}\n/** doc B */\nstruct B {}\n")
    assert prog.doc == "doc A\n"
    assert [d.doc for d in prog.definitions] == ["doc A\n", "doc B\n"]
    # A doctext nobody captured goes to the next definition.
    prog, _ = parse("struct A {\n  1: i32 x\n  /** dangling */\n}\nstruct B {}\n")
    assert [d.doc for d in prog.definitions] == [None, "dangling\n"]
    # `namespace a b` needs one more token (annotations may follow), so a doctext
    # right after it is read first and becomes the program doc; `include` does not.
    prog, _ = parse("namespace py x\n/** The struct. */\nstruct S {}\n")
    assert (prog.doc, prog.structs[0].doc) == ("The struct.\n", "The struct.\n")
    prog, _ = parse("namespace py x\n/** lost */\ninclude 'a.thrift'\nstruct S {}\n")
    assert (prog.doc, prog.structs[0].doc) == ("lost\n", None)
    prog, _ = parse("include 'a.thrift'\n/** The struct. */\nstruct S {}\n")
    assert (prog.doc, prog.structs[0].doc) == (None, "The struct.\n")


def test_silly_comments_are_not_doctext():
    prog, _ = parse("/**/ struct A {}\n/***/ struct B {}\n")
    assert [d.doc for d in prog.definitions] == [None, None]


# ---------------------------------------------------------------------------
# Whole programs, parse_file, errors, robustness
# ---------------------------------------------------------------------------


def test_empty_and_comment_only_files():
    for text in ("", "\n\n", "// nothing\n/* at all */\n# here"):
        prog, d = parse(text)
        assert prog.definitions == [] and not d.items


def test_definitions_keep_source_order_and_point_to_their_program():
    prog, _ = parse("const i32 A = 1\nstruct S {}\nenum E {}\ntypedef i32 T\nservice V {}\nexception X {}\nunion U {}\n")
    assert [type(d).__name__ for d in prog.definitions] == ["Const", "Struct", "Enum", "Typedef", "Service", "Struct", "Struct"]
    assert all(d.program is prog for d in prog.definitions)
    assert [s.name for s in prog.structs] == ["S", "X", "U"]


def test_parse_file(tmp_path):
    p = tmp_path / "my.service.thrift"
    p.write_text("struct S {\n  1: i32 a\n}\n")
    d = Diagnostics()
    prog = parse_file(p, d)
    assert prog.name == "my.service" and prog.path == str(p)
    assert prog.structs[0].program is prog
    assert prog.structs[0].loc.file == str(p)
    assert d.sources[str(p)] == ["struct S {", "  1: i32 a", "}"]


def test_parse_file_errors_are_diagnostics(tmp_path):
    d = Diagnostics()
    assert parse_file(tmp_path / "missing.thrift", d) is None
    assert "cannot read file" in d.errors[0].message
    bad = tmp_path / "bad.thrift"
    bad.write_bytes(b"struct S {}\n// \xff\xfe\n")
    d = Diagnostics()
    assert parse_file(bad, d) is None
    assert d.errors[0].message == "file is not valid UTF-8 (byte 0xff)" and (d.errors[0].loc.line, d.errors[0].loc.col) == (2, 4)


def test_syntax_error_rendering():
    text = "struct S {\n  1: i32 a\n  2 i32 b\n}\n"
    d = Diagnostics()
    d.add_source(F, text)
    assert parse_text(text, F, d) is None
    assert d.render(d.errors[0]) == (
        "t.thrift:3:5: error: syntax error, unexpected 'i32', expecting ':'\n"
        "   2 i32 b\n"
        "     ^"
    )


def test_lexer_error_stops_the_parse():
    e = parse_err("struct S {\n  1: i32 a = 1 @ 2\n}\n")
    assert e.message == "unexpected token in input: '@'" and (e.loc.line, e.loc.col) == (2, 16)


def test_warnings_alone_do_not_fail_and_errors_return_none():
    prog, d = parse("struct S { i32 a }\n")
    assert prog is not None and d.warnings and not d.errors
    prog, d = parse("struct S { 1: slist a }\n", ok=False)
    assert prog is None and d.errors


def test_nesting_up_to_the_limit_parses():
    depth = MAX_NESTING - 1  # the struct's braces are one level
    text = "struct S { 1: " + "list<" * depth + "i32" + ">" * depth + " x = " + "[" * (depth - 1) + "]" * (depth - 1) + " }\n"
    prog, _ = parse(text)
    t = prog.structs[0].fields[0].type
    for _ in range(depth):
        t = t.elem
    assert t.name == "i32"


@pytest.mark.parametrize("opening", ["list<", "set<", "map<i32,", "[", "{1:"])
def test_nesting_past_the_limit_is_an_error_at_the_bracket(opening):
    depth = 5000
    closing = {"list<": ">", "set<": ">", "map<i32,": ">", "[": "]", "{1:": "}"}[opening]
    if opening in ("[", "{1:"):
        text = "const list<i32> C =\n " + opening * depth + "1" + closing * depth + "\n"
        col = 2 + len(opening) * MAX_NESTING
    else:
        text = "typedef\n " + opening * depth + "i32" + closing * depth + " Deep\n"
        col = 2 + len(opening) * MAX_NESTING + opening.index("<")
    e = parse_err(text)
    assert e.message.startswith(f"nested too deeply: more than {MAX_NESTING} levels")
    assert (e.loc.line, e.loc.col) == (2, col)
    assert text.splitlines()[1][col - 1] in "<[{"


def test_internal_failures_become_diagnostics(monkeypatch):
    def boom(*a, **k):
        raise RuntimeError("kaboom")

    monkeypatch.setattr(P, "new_lexer", boom)
    d = Diagnostics()
    assert parse_text("struct S {}", F, d) is None
    assert "internal parser error: RuntimeError: kaboom" in d.errors[0].message


def test_parses_are_independent_across_threads():
    texts = [f"struct S{i} {{ {' '.join(f'{j + 1}: i32 f{j}' for j in range(i % 7 + 1))} }}\n" for i in range(40)]
    texts += [f"enum E{i} {{ A B C }} struct broken{i} {{" for i in range(10)]
    results = {}

    def work(k):
        d = Diagnostics()
        prog = parse_text(texts[k], f"f{k}.thrift", d)
        results[k] = (prog, d)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(len(texts))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for k in range(40):
        prog, d = results[k]
        s = prog.structs[0]
        assert s.name == f"S{k}" and len(s.fields) == k % 7 + 1 and s.loc.file == f"f{k}.thrift"
        assert not d.items
    for k in range(40, 50):
        prog, d = results[k]
        assert prog is None and d.errors[0].loc.file == f"f{k}.thrift"
        assert d.errors[0].message.startswith("syntax error, unexpected end of file")


def test_committed_tables_are_fresh_and_grammar_has_no_conflicts():
    assert P.tables_fresh(), "grammar changed: run python -m thrift_kgen.frontend.parser --write-tables"
    import ply.yacc as yacc

    import io

    out = io.StringIO()
    yacc.yacc(module=P, write_tables=False, debug=False, errorlog=yacc.PlyLogger(out))
    log = out.getvalue().splitlines()
    assert not [x for x in log if "conflict" in x], log


# ---------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------


def _reference(corpus: Path) -> list[tuple[str, str]]:
    rows = []
    for line in (corpus / "REFERENCE.tsv").read_text().splitlines():
        if line.strip():
            parts = line.split("\t")
            rows.append((parts[0], parts[1]))
    return rows


# Rejected files whose rejection is the parser's, with the reference's line.
SYNTACTIC_REJECTS = {
    "apache-thrift/test/BrokenConstants.thrift": 21,  # integer too big for 64 bits (lexer)
    "thriftpy2/tests/parser-cases/annotations.thrift": 22,  # annotations on a const
    "thriftpy2/tests/parser-cases/e_grammar_error_at_eof.thrift": 3,  # Apache says 4: the line after the last one
    "thriftpy2/tests/parser-cases/e_grammar_error_token.thrift": 3,
    "thriftpy2/tests/parser-cases/type_ref.thrift": 1,  # `include "...";`
    "thriftpy2/tests/parser-cases/value_ref.thrift": 1,
}


def test_every_accepted_corpus_file_parses(idl_corpus):
    failures = []
    n = 0
    for rel, verdict in _reference(idl_corpus):
        if verdict != "accept":
            continue
        n += 1
        d = Diagnostics()
        if parse_file(idl_corpus / rel, d) is None:
            failures.append(f"{rel}: " + "; ".join(d.render(e) for e in d.errors))
    assert n > 200
    assert not failures, "\n".join(failures)


def test_syntactic_rejects_are_refused_with_file_and_line(idl_corpus):
    for rel, line in SYNTACTIC_REJECTS.items():
        d = Diagnostics()
        path = idl_corpus / rel
        assert parse_file(path, d) is None, rel
        e = d.errors[0]
        assert e.loc.file == str(path) and e.loc.line == line and e.loc.col > 0, (rel, str(e.loc), e.message)


def test_semantic_rejects_parse(idl_corpus):
    """Every other reject is the resolver's business: the parser accepts them."""
    for rel, verdict in _reference(idl_corpus):
        if verdict == "reject" and rel not in SYNTACTIC_REJECTS:
            d = Diagnostics()
            assert parse_file(idl_corpus / rel, d) is not None, (rel, [x.message for x in d.errors])


REQ = {ast.DEFAULT: "req_out", ast.REQUIRED: "required", ast.OPTIONAL: "optional"}


def _ann(annotations):
    return {a.name: "1" if a.value is None else a.value for a in annotations} or None


def _fields(fields, written_as=None):
    """`written_as` maps requiredness as written to what the resolver makes of it (union
    members are optional, `optional` means nothing in argument and throws lists; the
    resolver's result is compared with the reference by test_corpus.py)."""
    m = written_as or {}
    return [(f.id, f.name, REQ[m.get(f.requiredness, f.requiredness)], f.doc, _ann(f.annotations)) for f in fields]


UNION_RULE = {ast.DEFAULT: ast.OPTIONAL, ast.REQUIRED: ast.OPTIONAL}
ARGS_RULE = {ast.OPTIONAL: ast.DEFAULT}
THROWS_RULE = {ast.OPTIONAL: ast.DEFAULT, ast.REQUIRED: ast.DEFAULT}


def _jfields(fields):
    return [(f["key"], f["name"], f["required"], f.get("doc"), f.get("annotations")) for f in fields]


def _ours(p: ast.Program) -> dict:
    return {
        "doc": p.doc,
        "namespaces": {n.scope: n.name for n in p.namespaces},
        "enums": [(e.name, e.doc, _ann(e.annotations), [(v.name, v.value, v.doc) for v in e.values]) for e in p.enums],
        "typedefs": [(t.name, t.doc, _ann(t.annotations)) for t in p.typedefs],
        "structs": sorted(
            (s.name, s.doc, s.kind == "exception", s.kind == "union", _ann(s.annotations),
             _fields(s.fields, UNION_RULE if s.kind == "union" else None)) for s in p.structs
        ),
        "constants": [(c.name, c.doc) for c in p.consts],
        "services": [
            (
                s.name,
                s.doc,
                _ann(s.annotations),
                [(f.name, f.oneway, f.doc, _ann(f.annotations), _fields(f.args, ARGS_RULE),
                  _fields(f.throws, THROWS_RULE)) for f in s.functions],
            )
            for s in p.services
        ],
    }


def _theirs(j: dict) -> dict:
    return {
        "doc": j.get("doc"),
        "namespaces": j["namespaces"],
        "enums": [(e["name"], e.get("doc"), e.get("annotations"), [(v["name"], v["value"], v.get("doc")) for v in e["members"]]) for e in j["enums"]],
        "typedefs": [(t["name"], t.get("doc"), t.get("annotations")) for t in j["typedefs"]],
        "structs": sorted(
            (s["name"], s.get("doc"), s["isException"], s["isUnion"], s.get("annotations"), _jfields(s["fields"])) for s in j["structs"]
        ),
        "constants": [(c["name"], c.get("doc")) for c in j["constants"]],
        "services": [
            (
                s["name"],
                s.get("doc"),
                s.get("annotations"),
                [
                    (f["name"], f["oneway"], f.get("doc"), f.get("annotations"), _jfields(f["arguments"]), _jfields(f["exceptions"]))
                    for f in s["functions"]
                ],
            )
            for s in j["services"]
        ],
    }


def test_parser_facts_agree_with_reference_json(idl_corpus):
    """What the parser alone decides (names, field ids, requiredness, enum values,
    doctext, annotations, namespaces) equals the reference's view of every accepted file."""
    compared = 0
    mismatches = []
    for rel, verdict in _reference(idl_corpus):
        if verdict != "accept":
            continue
        try:
            ref = json.loads((idl_corpus / "expected" / (rel[: -len(".thrift")] + ".json")).read_text())
        except json.JSONDecodeError:
            continue  # a few reference dumps key maps by lists: not JSON (test_corpus.py reads them)
        prog = parse_file(idl_corpus / rel, Diagnostics())
        ours, theirs = _ours(prog), _theirs(ref)
        for key in ours:
            if ours[key] != theirs[key]:
                mismatches.append(f"{rel}: {key}")
        compared += 1
    assert compared > 250
    assert not mismatches, "\n".join(mismatches)


def test_corpus_round_trips_through_the_printer(idl_corpus):
    for rel, verdict in _reference(idl_corpus):
        if verdict != "accept":
            continue
        prog = parse_file(idl_corpus / rel, Diagnostics())
        d = Diagnostics()
        again = parse_text(print_program(prog), str(idl_corpus / rel), d)
        assert again is not None, (rel, [x.message for x in d.errors])
        assert dump(again) == dump(prog), rel


def test_corpus_env_var_is_honoured(idl_corpus):
    if "KGEN_IDL_CORPUS" in os.environ:
        assert Path(os.environ["KGEN_IDL_CORPUS"]) == idl_corpus
    assert (idl_corpus / "REFERENCE.tsv").is_file()


# ---------------------------------------------------------------------------
# Property tests: random programs round-trip, random text never crashes
# ---------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from thrift_kgen.frontend.lexer import KEYWORDS  # noqa: E402

_RESERVED = set(KEYWORDS) | {"true", "false"} | set(P.REMOVED_DECLARATIONS) | set(P.REMOVED_TYPES)

simple_names = st.from_regex(r"\A[A-Za-z_][A-Za-z0-9_]{0,7}\Z").filter(lambda s: s not in _RESERVED)
dotted_names = st.lists(simple_names, min_size=1, max_size=3).map(".".join).filter(lambda s: s not in _RESERVED)
field_names = st.one_of(simple_names, st.sampled_from(KEYWORD_FIELD_NAMES))
texts = st.text(st.characters(exclude_categories=("Cs",)), max_size=12)
int64s = st.integers(-(2**63), 2**63 - 1)


@st.composite
def docs(draw):
    if draw(st.booleans()):
        return None
    line = st.from_regex(r"\A[a-z][a-z ]{0,15}[a-z.]\Z")
    first = draw(line)
    rest = draw(st.lists(st.one_of(line, st.just("")), max_size=3))
    return "".join(x + "\n" for x in [first, *rest])


annotations = st.lists(
    st.builds(ast.Annotation, name=dotted_names, value=st.one_of(st.none(), texts)), max_size=2
)


def types(depth: int = 3):
    base = st.builds(ast.BaseType, name=st.sampled_from(ast.BASE_TYPES), annotations=annotations)
    ref = st.builds(ast.TypeRef, name=dotted_names)
    leaf = st.one_of(base, ref)
    if depth == 0:
        return leaf
    inner = types(depth - 1)
    cpp = st.one_of(st.none(), texts)
    return st.one_of(
        leaf,
        st.builds(ast.ListType, elem=inner, annotations=annotations, cpp_type=cpp),
        st.builds(ast.SetType, elem=inner, annotations=annotations, cpp_type=cpp),
        st.builds(ast.MapType, key=inner, value=inner, annotations=annotations, cpp_type=cpp),
    )


def _double(x: float) -> ast.ConstDouble:
    return ast.ConstDouble(value=x, text=repr(x))


const_values = st.recursive(
    st.one_of(
        st.builds(ast.ConstInt, value=int64s),
        st.floats(allow_nan=False, allow_infinity=False).map(_double),
        st.builds(ast.ConstString, value=texts),
        st.builds(ast.ConstRef, name=dotted_names),
    ),
    lambda inner: st.one_of(
        st.builds(ast.ConstList, items=st.lists(inner, max_size=3)),
        st.builds(ast.ConstMap, items=st.lists(st.tuples(inner, inner), max_size=3)),
    ),
    max_leaves=8,
)


@st.composite
def field_lists(draw, requiredness=(ast.DEFAULT, ast.REQUIRED, ast.OPTIONAL), max_defaults=None, nested=True):
    n = draw(st.integers(0, 4))
    auto = draw(st.booleans())
    next_auto = -1
    out = []
    defaults = 0
    for _ in range(n):
        if auto and draw(st.booleans()):
            fid, explicit = next_auto, False
            next_auto -= 1
        else:
            fid, explicit = draw(st.integers(1, 32767)), True
        default = draw(st.one_of(st.none(), const_values))
        if default is not None:
            if max_defaults is not None and defaults >= max_defaults:
                default = None
            else:
                defaults += 1
        # A nested field list resets Apache's auto-id counter: only nest where all ids are explicit.
        xsd_attrs = None
        if nested and not auto and draw(st.integers(0, 5)) == 0:
            xsd_attrs = draw(field_lists(nested=False).filter(lambda fs: all(f.explicit_id for f in fs)))
        out.append(
            ast.Field(
                id=fid,
                explicit_id=explicit,
                name=draw(field_names),
                type=draw(types(2)),
                requiredness=draw(st.sampled_from(requiredness)),
                default=default,
                reference=draw(st.booleans()),
                xsd_optional=draw(st.booleans()),
                xsd_nillable=draw(st.booleans()),
                xsd_attrs=xsd_attrs,
                doc=draw(docs()),
                annotations=draw(annotations),
            )
        )
    return out


@st.composite
def enums(draw):
    values = []
    prev = -1
    for name in draw(st.lists(simple_names, max_size=5)):
        if draw(st.booleans()):
            v, explicit = draw(st.integers(-(2**31), 2**31 - 6)), True  # room for 5 implicit ones
        else:
            v, explicit = prev + 1, False
        prev = v
        values.append(ast.EnumValue(name=name, value=v, explicit=explicit, doc=draw(docs()), annotations=draw(annotations)))
    return ast.Enum(name=draw(simple_names), values=values, doc=draw(docs()), annotations=draw(annotations))


@st.composite
def structs(draw):
    kind = draw(st.sampled_from([ast.STRUCT, ast.UNION, ast.EXCEPTION]))
    if kind == ast.UNION:
        fields = draw(field_lists(requiredness=(ast.OPTIONAL,), max_defaults=1))
    else:
        fields = draw(field_lists())
    return ast.Struct(
        name=draw(simple_names),
        kind=kind,
        fields=fields,
        xsd_all=kind != ast.EXCEPTION and draw(st.booleans()),
        doc=draw(docs()),
        annotations=draw(annotations),
    )


@st.composite
def services(draw):
    functions = []
    for _ in range(draw(st.integers(0, 3))):
        functions.append(
            ast.Function(
                name=draw(simple_names),
                return_type=draw(st.one_of(st.none(), types(2))),
                args=draw(field_lists(requiredness=(ast.DEFAULT, ast.REQUIRED))),
                throws=draw(field_lists(requiredness=(ast.DEFAULT,))),
                oneway=draw(st.booleans()),
                doc=draw(docs()),
                annotations=draw(annotations),
            )
        )
    return ast.Service(
        name=draw(simple_names),
        extends=draw(st.one_of(st.none(), dotted_names)),
        functions=functions,
        doc=draw(docs()),
        annotations=draw(annotations),
    )


definitions = st.one_of(
    st.builds(ast.Const, name=simple_names, type=types(), value=const_values, doc=docs()),
    st.builds(ast.Typedef, name=simple_names, type=types(), doc=docs(), annotations=annotations),
    enums(),
    structs(),
    services(),
)


@st.composite
def programs(draw):
    namespaces = [
        ast.Namespace(scope="*", name=draw(dotted_names))
        if draw(st.integers(0, 3)) == 0
        else ast.Namespace(scope=draw(dotted_names), name=draw(dotted_names), annotations=draw(annotations))
        for _ in range(draw(st.integers(1, 3)))  # a header keeps the program doc its own
    ]
    return ast.Program(
        path=F,
        name="t",
        doc=draw(docs()),
        includes=[ast.Include(path=p) for p in draw(st.lists(texts, max_size=2))],
        cpp_includes=[ast.CppInclude(path=p) for p in draw(st.lists(texts, max_size=1))],
        namespaces=namespaces,
        definitions=draw(st.lists(definitions, max_size=5)),
    )


@settings(max_examples=120, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(programs())
def test_random_programs_round_trip_through_printer_and_parser(prog):
    text = print_program(prog)
    d = Diagnostics()
    again = parse_text(text, F, d)
    assert again is not None, text + "\n" + "\n".join(x.message for x in d.errors)
    assert dump(again) == dump(prog), text


_ALPHABET = st.sampled_from(
    list("{}()<>[]=:;,*&'\"\\/#.-+0123456789xe\n\t ")
    + ["struct", "union", "enum", "service", "const", "typedef", "include", "namespace", "i32", "list",
       "map", "string", "required", "optional", "throws", "extends", "oneway", "void", "/**", "*/", "/*",
       "xsd_attrs", "cpp_type", "A", "b.c", "0x1F", "1.5e3", "é", "\x00"]  # fmt: skip
)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(_ALPHABET, max_size=60).map(" ".join))
def test_no_traceback_for_any_text(text):
    d = Diagnostics()
    prog = parse_text(text, F, d)
    assert (prog is None) == bool(d.errors)
    for e in d.errors:
        assert e.loc.file == F and e.loc.line >= 1 and e.loc.col >= 1


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(max_size=80))
def test_no_traceback_for_arbitrary_unicode(text):
    d = Diagnostics()
    prog = parse_text(text, F, d)
    assert (prog is None) == bool(d.errors)


# ---------------------------------------------------------------------------
# Byte-order mark, non-UTF-8 files, excerpts
# ---------------------------------------------------------------------------


def test_utf8_byte_order_mark_is_accepted_and_positions_stay_right(tmp_path):
    p = tmp_path / "bom.thrift"
    p.write_bytes(b"\xef\xbb\xbfstruct S { 1: i32 a }\nstruct T { 1: Nope b }\n")
    d = Diagnostics()
    prog = parse_file(p, d)
    assert prog is not None and not d.items
    assert at(prog.structs[0]) == (1, 8) and at(prog.structs[0].fields[0]) == (1, 19)
    # The same text through the resolver: an error's column and excerpt ignore the mark.
    from thrift_kgen.frontend.resolver import load_program

    d = Diagnostics()
    p.write_bytes(b"\xef\xbb\xbfstruct T { 1: Nope b }\n")
    assert load_program(str(p), [], d) is None
    assert d.render(d.errors[0]) == f'{p}:1:15: error: Type "Nope" not defined\n struct T {{ 1: Nope b }}\n               ^'


def test_byte_order_mark_elsewhere_is_an_error():
    e = parse_err("struct S {\ufeff}\n")
    assert e.message.startswith("unexpected byte-order mark (U+FEFF)") and at(e) == (1, 11)


def test_binary_file_excerpt_escapes_its_bytes(tmp_path):
    p = tmp_path / "bin.thrift"
    p.write_bytes(b"struct S {\n  1: i32 \xe9t\xe9\x80 \x1b[31m a\n}\n")
    d = Diagnostics()
    assert parse_file(p, d) is None
    text = d.render(d.errors[0])
    assert text == (f"{p}:2:10: error: file is not valid UTF-8 (byte 0xe9)\n"
                    "   1: i32 \\xe9t\\xe9\\x80 \\x1b[31m a\n"
                    "          ^")
    assert text.isprintable() or all(c.isprintable() or c == "\n" for c in text)


def test_excerpt_escapes_control_characters_and_keeps_the_caret_under_the_column():
    e = parse_err("struct S {\x01\x02 \x07 }\n")
    assert e.message == "unexpected token in input: '\\x01'"
    from thrift_kgen.frontend.diagnostics import Diagnostic

    d = Diagnostic(ast.Location(F, 1, 14), "error", "bell\x07")  # column 14: the \x07
    assert d.format("struct S {\x01\x02 \x07 }").splitlines() == [
        f"{F}:1:14: error: bell\\x07", " struct S {\\x01\\x02 \\x07 }", " " + " " * 19 + "^"]


def test_long_lines_are_shown_as_a_window_around_the_caret():
    e = parse_err("const i32 X = " + "1 + " * 500 + "\n")
    d = Diagnostics()
    d.add_source(F, "const i32 X = " + "1 + " * 500 + "\n")
    head, line, caret = d.render(e).splitlines()
    assert len(line) < 120 and line.startswith(" const i32 X = 1 + ") and line.endswith("...")
    assert line[len(caret) - 1] == "+"
