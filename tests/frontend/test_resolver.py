"""Unit tests of the resolver: includes, name resolution, constant evaluation and
every semantic check with its message and location."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from thrift_kgen.frontend import ast, parser
from thrift_kgen.frontend.diagnostics import Diagnostics
from thrift_kgen.frontend.resolver import load_program, resolve_program


def write(tmp_path: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(textwrap.dedent(text))


def load(tmp_path: Path, text: str | None = None, files: dict[str, str] | None = None,
         main: str = "main.thrift", include_dirs=()):
    if text is not None:
        files = {main: text, **(files or {})}
    write(tmp_path, files or {})
    diags = Diagnostics()
    prog = load_program(str(tmp_path / main), [str(tmp_path / d) for d in include_dirs], diags)
    return prog, diags


def errs(diags: Diagnostics) -> list[tuple[int, int, str]]:
    return [(d.loc.line, d.loc.col, d.message) for d in diags.errors]


def warns(diags: Diagnostics) -> list[str]:
    return [d.message for d in diags.warnings]


def ok(tmp_path: Path, text: str, **kw) -> ast.Program:
    prog, diags = load(tmp_path, text, **kw)
    assert prog is not None, errs(diags)
    return prog


def one_error(tmp_path: Path, text: str, **kw) -> tuple[int, int, str]:
    prog, diags = load(tmp_path, text, **kw)
    assert prog is None
    e = errs(diags)
    assert len(e) == 1, e
    return e[0]


def const(prog: ast.Program, name: str):
    return next(c for c in prog.consts if c.name == name).evaluated


# --------------------------------------------------------------------------
# Includes
# --------------------------------------------------------------------------


def test_include_resolves_module_types_consts_enum_values_and_services(tmp_path):
    prog = ok(tmp_path, """\
        include "shared.thrift"
        struct S { 1: shared.Point p = {"x": shared.ORIGIN_X}, 2: shared.Color c = shared.Color.RED }
        const i32 R = shared.Color.RED
        service Svc extends shared.Base { shared.Point get() }
        """, files={"shared.thrift": """\
        const i32 ORIGIN_X = 7
        enum Color { GREEN = 1, RED = 4 }
        struct Point { 1: i32 x }
        service Base { void ping() }
        """})
    inc = prog.includes[0]
    assert inc.program is not None and inc.program.name == "shared"
    s = prog.structs[0]
    assert s.fields[0].type.target is inc.program.structs[0]
    assert s.fields[0].default_evaluated == {"x": 7}
    assert s.fields[1].default_evaluated == 4
    assert const(prog, "R") == 4
    assert prog.consts[0].value.target is inc.program.enums[0].values[1]
    svc = prog.services[0]
    assert svc.extends_target is inc.program.services[0]
    assert svc.functions[0].return_type.target is inc.program.structs[0]


def test_include_search_order_own_folder_first_then_I_dirs_in_order(tmp_path):
    files = {
        "src/main.thrift": 'include "a.thrift"\ninclude "b.thrift"\nconst i32 X = a.V\nconst i32 Y = b.V\n',
        "src/a.thrift": "const i32 V = 1\n",
        "inc1/a.thrift": "const i32 V = 2\n",
        "inc1/b.thrift": "const i32 V = 3\n",
        "inc2/b.thrift": "const i32 V = 4\n",
    }
    prog, diags = load(tmp_path, files=files, main="src/main.thrift", include_dirs=("inc1", "inc2"))
    assert prog is not None, errs(diags)
    assert (const(prog, "X"), const(prog, "Y")) == (1, 3)
    prog, diags = load(tmp_path, files={}, main="src/main.thrift", include_dirs=("inc2", "inc1"))
    assert (const(prog, "X"), const(prog, "Y")) == (1, 4)


def test_missing_include_is_an_error_at_the_include(tmp_path):
    line, col, msg = one_error(tmp_path, 'namespace cpp x\ninclude "nowhere.thrift"\n')
    assert (line, col) == (2, 1)
    assert 'cannot find include file "nowhere.thrift"' in msg


def test_include_cycle_reported_with_chain(tmp_path):
    prog, diags = load(tmp_path, files={
        "main.thrift": 'include "a.thrift"\n',
        "a.thrift": 'include "b.thrift"\n',
        "b.thrift": '\ninclude "a.thrift"\n',
    })
    assert prog is None
    [(line, col, msg)] = errs(diags)
    assert diags.errors[0].loc.file.endswith("b.thrift") and (line, col) == (2, 1)
    assert msg.startswith("include cycle: ")
    assert [Path(p.strip()).name for p in msg[len("include cycle: "):].split("->")] == ["a.thrift", "b.thrift", "a.thrift"]


def test_self_include_is_a_cycle(tmp_path):
    line, col, msg = one_error(tmp_path, 'include "main.thrift"\n')
    assert "include cycle" in msg and (line, col) == (1, 1)


def test_each_file_parsed_once(tmp_path, monkeypatch):
    calls = []
    real = parser.parse_file

    def counting(path, diags):
        calls.append(Path(path).name)
        return real(path, diags)

    monkeypatch.setattr(parser, "parse_file", counting)
    ok(tmp_path, 'include "a.thrift"\ninclude "b.thrift"\nstruct M { 1: a.A a, 2: b.B b }\n', files={
        "a.thrift": 'include "base.thrift"\nstruct A { 1: base.T t }\n',
        "b.thrift": 'include "./base.thrift"\nstruct B { 1: base.T t }\n',
        "base.thrift": "struct T { 1: i32 x }\n",
    })
    assert sorted(calls) == ["a.thrift", "b.thrift", "base.thrift", "main.thrift"]


def test_types_of_indirect_includes_are_not_visible(tmp_path):
    line, col, msg = one_error(tmp_path, 'include "a.thrift"\nstruct M { 1: base.T t }\n', files={
        "a.thrift": 'include "base.thrift"\n',
        "base.thrift": "struct T { 1: i32 x }\n",
    })
    assert (line, col) == (2, 15)
    assert msg.startswith('Type "base.T" not defined') and "no included file is named base.thrift" in msg


def test_error_in_included_file_is_located_there(tmp_path):
    prog, diags = load(tmp_path, 'include "bad.thrift"\n', files={"bad.thrift": "struct X { 1: Nope n }\n"})
    assert prog is None
    [d] = diags.errors
    assert Path(d.loc.file).name == "bad.thrift" and (d.loc.line, d.loc.col) == (1, 15)


def test_missing_main_file_and_directory_and_garbage(tmp_path):
    diags = Diagnostics()
    assert load_program(str(tmp_path / "none.thrift"), [], diags) is None
    assert "cannot open" in diags.errors[0].message
    diags = Diagnostics()
    assert load_program(str(tmp_path), [], diags) is None
    assert "directory" in diags.errors[0].message
    (tmp_path / "bin.thrift").write_bytes(bytes(range(256)) * 4)
    diags = Diagnostics()
    assert load_program(str(tmp_path / "bin.thrift"), [], diags) is None
    assert diags.errors


def test_empty_file_is_an_empty_program(tmp_path):
    prog = ok(tmp_path, "")
    assert prog.definitions == [] and prog.name == "main"


# --------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------


@pytest.mark.parametrize("second", ["struct Foo {}", "exception Foo {}", "service Foo {}", "enum Foo { A }",
                                    "typedef i32 Foo", "union Foo {}"])
def test_duplicate_type_names(tmp_path, second):
    line, col, msg = one_error(tmp_path, f"struct Foo {{ 1: i32 a }}\n{second}\n")
    assert line == 2 and msg.startswith('Type "Foo" is already defined.')


def test_const_may_share_a_type_name_but_not_another_const_name(tmp_path):
    ok(tmp_path, "struct Foo {}\nconst i32 Foo = 1\n")
    line, col, msg = one_error(tmp_path, "const i32 A = 1\nconst i32 A = 2\n")
    assert line == 2 and msg.startswith("Constant A is already defined")


def test_duplicate_enum_value_names_but_duplicate_numbers_allowed(tmp_path):
    ok(tmp_path, "enum E { A = 1, B = 1 }\n")
    line, col, msg = one_error(tmp_path, "enum E {\n A = 1,\n A = 2 }\n")
    assert (line, col, msg) == (3, 2, "Enum E.A is already defined!")


def test_enum_value_outside_i32_is_an_error_for_hand_built_asts():
    e = ast.Enum(name="E", values=[ast.EnumValue(name="BIG", value=2**31, explicit=True, loc=ast.Location("x", 3, 2))])
    p = ast.Program(path="x", name="x", definitions=[e])
    d = Diagnostics()
    assert not resolve_program(p, d)
    assert errs(d) == [(3, 2, "64-bit value supplied for enum BIG will be truncated.")]


def test_duplicate_field_id_and_name(tmp_path):
    assert one_error(tmp_path, "struct S {\n 1: i32 abc,\n 1: i32 efg\n}\n") == (
        3, 9, '"1: efg" - field identifier/name has already been used')
    assert one_error(tmp_path, "struct S {\n 1: i32 abc,\n 2: i32 abc\n}\n") == (
        3, 9, '"2: abc" - field identifier/name has already been used')
    # also in argument and throws lists
    assert one_error(tmp_path, "service S { void f(1: i32 a, 1: i32 b) }\n")[2].startswith('"1: b"')


def test_duplicate_function_and_redefined_inherited_function(tmp_path):
    assert one_error(tmp_path, "service S {\n void f(),\n void f()\n}\n") == (3, 7, "Function f is already defined")
    line, col, msg = one_error(tmp_path, "service A { void f() }\nservice B extends A {}\nservice C extends B {\n i32 f() }\n")
    assert (line, col) == (4, 6) and msg.startswith("Function f is already defined in service C")
    assert "inherited from A" in msg


def test_undefined_types(tmp_path):
    assert one_error(tmp_path, "struct S {\n 1: list<Nope> n }\n") == (2, 10, 'Type "Nope" not defined')
    line, col, msg = one_error(tmp_path, "service X {}\nstruct S { 1: X x }\n")
    assert msg == 'Type "X" not defined (X is a service, not a type)'
    assert one_error(tmp_path, "service S { Nope f() }\n")[2] == 'Type "Nope" not defined'
    assert one_error(tmp_path, "typedef Nope T\n")[:2] == (1, 9)


def test_forward_type_references_are_allowed(tmp_path):
    prog = ok(tmp_path, """\
        typedef Later LaterAlias
        exception E {}
        struct A { 1: Later l, 2: list<map<string, B>> bs, 3: LaterAlias la }
        service S { B f(1: Later x) throws (1: E e) }
        struct Later { 1: i32 x }
        struct B { 1: A a }
        """)
    a = next(s for s in prog.structs if s.name == "A")
    assert a.fields[0].type.target.name == "Later"
    assert a.fields[1].type.elem.value.target.name == "B"
    assert ast.true_type(a.fields[2].type).name == "Later"


def test_typedef_cycle(tmp_path):
    prog, diags = load(tmp_path, "typedef B A\ntypedef A B\n")
    assert prog is None
    assert any("defined in terms of itself" in m for _, _, m in errs(diags))


def test_dotted_names_are_refused(tmp_path):
    p = ast.Program(path="x", name="x", definitions=[ast.Struct(name="a.b", loc=ast.Location("x", 1, 8))])
    d = Diagnostics()
    assert not resolve_program(p, d)
    assert errs(d) == [(1, 8, "Identifier a.b can't have a dot.")]


# --------------------------------------------------------------------------
# Order of definition (Apache resolves these at parse time)
# --------------------------------------------------------------------------


def test_const_type_must_be_defined_before(tmp_path):
    line, col, msg = one_error(tmp_path, "const SomeInt X = [1]\ntypedef list<i32> SomeInt\n")
    assert (line, col) == (1, 7)
    assert msg.startswith('Type "SomeInt" not defined') and "line 2" in msg


def test_const_reference_must_be_defined_before(tmp_path):
    line, col, msg = one_error(tmp_path, "const i32 A = B\nconst i32 B = 1\n")
    assert (line, col) == (1, 15)
    assert msg.startswith('No enum value or constant found named "B"!') and "defined later" in msg


def test_struct_of_a_literal_must_have_its_field_types_defined_before(tmp_path):
    line, col, msg = one_error(tmp_path, "struct S { 1: T t }\nconst S X = {'t': {'a': 1}}\nstruct T { 1: i32 a }\n")
    assert line == 1 and msg.startswith('Type "T" not defined')


def test_default_value_type_must_be_defined_before_the_struct(tmp_path):
    line, col, msg = one_error(tmp_path, "struct S { 1: E e = E.A }\nenum E { A }\n")
    assert msg.startswith('Type "E" not defined')
    ok(tmp_path, "enum E { A }\nstruct S { 1: E e = E.A }\n")


def test_base_service_must_be_defined_before(tmp_path):
    line, col, msg = one_error(tmp_path, "service B extends A {}\nservice A {}\n")
    assert line == 1 and msg.startswith('Service "A" has not been defined.')
    line, col, msg = one_error(tmp_path, "service B extends Nope {}\n")
    assert msg == 'Service "Nope" has not been defined.'
    line, col, msg = one_error(tmp_path, "struct A {}\nservice B extends A {}\n")
    assert "A is a struct, not a service" in msg


def test_thrown_exception_must_be_defined_before(tmp_path):
    line, col, msg = one_error(tmp_path, "service S { void f() throws (1: X x) }\nexception X {}\n")
    assert (line, col) == (1, 33) and msg.startswith('Type "X" not defined')


# --------------------------------------------------------------------------
# Constants
# --------------------------------------------------------------------------


@pytest.mark.parametrize("typ,lo,hi", [("i8", -128, 127), ("byte", -128, 127), ("i16", -32768, 32767),
                                        ("i32", -(2**31), 2**31 - 1), ("i64", -(2**63), 2**63 - 1)])
def test_int_ranges(tmp_path, typ, lo, hi):
    prog = ok(tmp_path, f"const {typ} LO = {lo}\nconst {typ} HI = {hi}\n")
    assert (const(prog, "LO"), const(prog, "HI")) == (lo, hi)
    if typ != "i64":  # beyond i64 the lexer refuses the literal
        line, col, msg = one_error(tmp_path, f"const {typ} X = {hi + 1}\n")
        assert msg == f'type error: const "X" was declared as {typ}, but {hi + 1} is out of its range [{lo}, {hi}]'
        assert col == len(f"const {typ} X = ") + 1
        assert "out of its range" in one_error(tmp_path, f"const {typ} X = {lo - 1}\n")[2]


def test_bool_double_string_binary(tmp_path):
    prog = ok(tmp_path, """\
        const bool T = true
        const bool F = 0
        const double D1 = 3
        const double D2 = -1.5e3
        const string S = "héllo"
        const binary B = "héllo"
        """)
    assert const(prog, "T") is True and const(prog, "F") is False
    assert const(prog, "D1") == 3.0 and isinstance(const(prog, "D1"), float)
    assert const(prog, "D2") == -1500.0
    assert const(prog, "S") == "héllo" and const(prog, "B") == "héllo".encode()
    assert one_error(tmp_path, "const bool X = 2\n")[2].startswith('type error: const "X" was declared as bool')
    assert one_error(tmp_path, "const i32 int32 = 1.7\n") == (1, 19, 'type error: const "int32" was declared as i32')
    assert one_error(tmp_path, "const string X = 1\n")[2] == 'type error: const "X" was declared as string'
    assert one_error(tmp_path, "const double X = 'a'\n")[2] == 'type error: const "X" was declared as double'
    assert one_error(tmp_path, "const i8 X = 'a'\n")[2] == 'type error: const "X" was declared as byte'


def test_uuid(tmp_path):
    prog = ok(tmp_path, "const uuid A = '{00112233-4455-6677-8899-aaBBccDDeeFF}'\n"
                        "const uuid B = '00000000-4444-CCCC-ffff-0123456789ab'\n")
    assert const(prog, "A") == "00112233-4455-6677-8899-aaBBccDDeeFF"
    assert const(prog, "B") == "00000000-4444-CCCC-ffff-0123456789ab"
    assert one_error(tmp_path, "const uuid X = '0011-22'\n") == (1, 16, "invalid uuid 0011-22")
    assert one_error(tmp_path, "const uuid X = 5\n")[2] == 'type error: const "X" was declared as uuid'


def test_enum_constants(tmp_path):
    prog = ok(tmp_path, """\
        enum E { A = 1, B = 5 }
        enum F { B = 9 }
        const E X = E.B
        const E Y = 1
        const E Z = F.B
        const i32 I = E.B
        const list<E> L = [E.A, 5]
        """)
    assert [const(prog, n) for n in "XYZIL"] == [5, 1, 5, 5, [1, 5]]
    x = prog.consts[0]
    assert x.value.target is prog.enums[0].values[1]


def test_enum_constant_quirks_like_apache(tmp_path):
    # Apache looks only at the value name after the enum name: F.B in an E context is E.B,
    # with our warning.
    prog, diags = load(tmp_path, "enum E { A = 1, B = 5 }\nenum F { B = 9 }\nconst E Z = F.B\n")
    assert prog is not None and const(prog, "Z") == 5
    assert any("F.B is a value of enum F, not of E; taken as E.B (= 5)" in w for w in warns(diags))
    assert one_error(tmp_path, "enum Lang { A, B }\nconst Lang my_lang = 3\n") == (
        2, 22, "Couldn't find a named value in enum Lang for value 3")
    line, col, msg = one_error(tmp_path, "enum E { A }\nconst E X = A\n")
    assert msg.startswith("error: identifier A is unqualified!")
    assert one_error(tmp_path, "enum E { A }\nconst E X = E.C\n")[2] == (
        "type error: const X was declared as type E which is an enum, but E.C is not a valid value for that enum")
    assert one_error(tmp_path, "enum E { A }\nconst E X = 'A'\n")[2] == 'type error: const "X" was declared as enum'


def test_const_references(tmp_path):
    prog = ok(tmp_path, """\
        const i32 A = 5
        const i64 B = A
        const double C = A
        const string S = "s"
        const list<string> L = [S, S]
        const map<string, i32> M = {S: A}
        """)
    assert [const(prog, n) for n in "ABCSLM"] == [5, 5, 5.0, "s", ["s", "s"], {"s": 5}]
    assert prog.consts[1].value.target is prog.consts[0]
    assert one_error(tmp_path, "const double D = 1.5\nconst i32 X = D\n")[2] == 'type error: const "X" was declared as i32'
    assert one_error(tmp_path, "const i32 X = ref\n") == (1, 15, 'No enum value or constant found named "ref"!')
    assert "is a type, not a value" in one_error(tmp_path, "struct T {}\nconst i32 X = T\n")[2]
    # references to container and struct constants are refused, as by Apache
    line, col, msg = one_error(tmp_path, "const list<i32> A = [1]\nconst list<i32> B = A\n")
    assert (line, col) == (2, 21) and msg.startswith('type error: const "B" was declared as list')
    line, col, msg = one_error(tmp_path, "struct Cookbook {}\nconst Cookbook cookbook = Cookbook\n")
    assert msg.startswith('type error: const "cookbook" was declared as struct/xception')
    line, col, msg = one_error(tmp_path, "const list<i32> A = [1]\nconst i32 B = A\n")
    assert "only constants of base types" in msg


def test_containers(tmp_path):
    prog = ok(tmp_path, """\
        const list<i32> L = [1, 2, 3]
        const set<i32> S = [1, 1, 2]
        const map<i32, map<string, list<double>>> M = {1: {"a": [1, 2.5]}}
        const map<list<i32>, i32> K = {[1, 2]: 3}
        """)
    assert const(prog, "L") == [1, 2, 3]
    assert const(prog, "S") == [1, 1, 2]  # like Apache: duplicates kept
    assert const(prog, "M") == {1: {"a": [1.0, 2.5]}}
    assert const(prog, "K") == {(1, 2): 3}


def test_container_type_errors_name_the_path(tmp_path):
    assert one_error(tmp_path, "const map<string, map<string, i32>> dct = {'key': {'key1': '1'}}\n") == (
        1, 60, 'type error: const "dct<val><val>" was declared as i32')
    assert one_error(tmp_path, "const map<i32, i32> m = {'a': 1}\n")[2] == 'type error: const "m<key>" was declared as i32'
    assert one_error(tmp_path, "const list<i16> l = [1, 'x']\n")[2] == 'type error: const "l<elem>" was declared as i16'
    assert one_error(tmp_path, "const list<i32> l = 5\n")[2] == 'type error: const "l" was declared as list'
    assert one_error(tmp_path, "const map<i32,i32> m = [1]\n")[2] == 'type error: const "m" was declared as map'


def test_duplicate_map_key_warns_and_keeps_last(tmp_path):
    prog, diags = load(tmp_path, "const map<i32, string> M = {1: 'a', 1: 'b'}\n")
    assert const(prog, "M") == {1: "b"}
    assert any("duplicate map key" in w for w in warns(diags))


def test_empty_map_for_a_set_is_read_as_empty_with_a_warning(tmp_path):
    prog, diags = load(tmp_path, "const set<string> S = {}\nconst map<i32,i32> M = []\n")
    assert const(prog, "S") == [] and const(prog, "M") == {}
    assert len([w for w in warns(diags) if "read as empty" in w]) == 2


def test_struct_literals(tmp_path):
    prog = ok(tmp_path, """\
        struct Person { 1: string name, 2: i32 age, 3: optional list<Person> kids }
        const Person jack = {'name': 'jack', 'age': 40, 'kids': [{'name': 'jill', 'age': 3}]}
        const Person nobody = {}
        """)
    assert const(prog, "jack") == {"name": "jack", "age": 40, "kids": [{"name": "jill", "age": 3}]}
    assert const(prog, "nobody") == {}
    text = "struct Person { 1: string name, 2: i32 age }\n"
    assert one_error(tmp_path, text + "const Person jack = {'name': 'jack', 'age': 1.8}\n") == (
        2, 45, 'type error: const "jack.age" was declared as i32')
    assert one_error(tmp_path, text + "const Person p = {'avatar': '/a.jpg'}\n") == (
        2, 19, 'No field named "avatar" was found in struct of type "Person"')
    assert one_error(tmp_path, text + "const Person p = {1: 'x'}\n")[2] == "type error: p struct key must be string"
    assert one_error(tmp_path, text + "const Person p = [1]\n")[2].startswith(
        'type error: const "p" was declared as struct/xception')


def test_several_errors_are_reported_at_once(tmp_path):
    prog, diags = load(tmp_path, "const i8 A = 1000\nconst string B = 1\nstruct S { 1: Nope n }\n")
    assert prog is None
    assert [e[0] for e in errs(diags)] == [3, 1, 2]


# --------------------------------------------------------------------------
# Structs, unions, services
# --------------------------------------------------------------------------


def test_field_defaults_evaluated(tmp_path):
    prog = ok(tmp_path, "enum E { A = 3 }\nstruct S { 1: i32 a = 4, 2: E e = E.A, 3: list<string> l = ['x'], 4: double d = 1 }\n")
    assert [f.default_evaluated for f in prog.structs[0].fields] == [4, 3, ["x"], 1.0]
    line, col, msg = one_error(tmp_path, "struct S {\n 1: i16 a = 40000 }\n")
    assert (line, col) == (2, 13) and msg.startswith('type error: const "a" was declared as i16')


def test_union_members_are_optional_and_at_most_one_default(tmp_path):
    prog, diags = load(tmp_path, "union U { 1: i32 a, 2: required string b, 3: optional i64 c }\n")
    assert prog is not None
    assert [f.requiredness for f in prog.structs[0].fields] == [ast.OPTIONAL] * 3
    assert any("union members must be optional" in w for w in warns(diags))
    assert one_error(tmp_path, "union U {\n 1: i32 a = 1,\n 2: i32 b = 2 }\n") == (
        3, 9, "Field b provides another default value for union U")
    ok(tmp_path, "union U { 1: i32 a = 1, 2: i32 b }\n")


def test_resolver_applies_union_rules_to_hand_built_asts():
    f = ast.Field(id=1, name="a", type=ast.BaseType(name="i32"), requiredness=ast.REQUIRED)
    p = ast.Program(path="x", name="x", definitions=[ast.Struct(name="U", kind=ast.UNION, fields=[f])])
    d = Diagnostics()
    assert resolve_program(p, d)
    assert f.requiredness == ast.OPTIONAL and d.warnings


def test_required_fields_stay_required_in_structs(tmp_path):
    prog = ok(tmp_path, "struct S { 1: required i32 a, 2: optional i32 b, 3: i32 c }\n")
    assert [f.requiredness for f in prog.structs[0].fields] == [ast.REQUIRED, ast.OPTIONAL, ast.DEFAULT]


def test_throws_only_exceptions(tmp_path):
    line, col, msg = one_error(tmp_path, "struct NotExc {}\nservice S {\n void f() throws (1: NotExc e) }\n")
    assert (line, col) == (3, 22)
    assert msg.startswith("Throws clause may not contain non-exception types")
    ok(tmp_path, "exception X {}\ntypedef X Y\nservice S { void f() throws (1: Y e) }\n")


def test_throws_required_is_ignored_with_a_warning(tmp_path):
    prog, diags = load(tmp_path, "exception X {}\nservice S { void f() throws (1: required X e) }\n")
    assert prog is not None
    assert prog.services[0].functions[0].throws[0].requiredness == ast.DEFAULT
    assert any('"required" is illegal here' in w or "ignored" in w for w in warns(diags))


def test_oneway_rules(tmp_path):
    assert one_error(tmp_path, "exception X {}\nservice S {\n oneway void f() throws (1: X x) }\n") == (
        3, 14, "Oneway methods can't throw exceptions. (f)")
    prog, diags = load(tmp_path, "service S { oneway i32 f() }\n")  # Apache only warns
    assert prog is not None and any("Oneway methods should return void" in w for w in warns(diags))
    prog = ok(tmp_path, "service S { oneway void f(1: i32 a) }\n")
    assert prog.services[0].functions[0].oneway


def test_service_cannot_extend_itself(tmp_path):
    line, col, msg = one_error(tmp_path, "service S extends S {}\n")
    assert msg.startswith('Service "S" has not been defined.')


def test_exceptions_may_be_used_as_types_like_apache(tmp_path):
    # Apache builds with ALLOW_EXCEPTIONS_AS_TYPE: no error.
    ok(tmp_path, "exception X {}\nstruct S { 1: X x }\nservice V { X f(1: X x) }\n")


def test_same_type_name_in_include_with_the_same_namespaces_is_an_error(tmp_path):
    line, col, msg = one_error(tmp_path, 'include "a.thrift"\nstruct T {}\n', files={"a.thrift": "struct T {}\n"})
    assert line == 2 and msg.startswith('Type "T" is already defined.')
    ok(tmp_path, 'namespace cpp x\ninclude "a.thrift"\nstruct T {}\n', files={"a.thrift": "namespace cpp y\nstruct T {}\n"})


def test_resolve_program_on_a_hand_built_ast():
    loc = ast.Location("h.thrift", 1, 1)
    point = ast.Struct(name="Point", fields=[ast.Field(id=1, name="x", type=ast.BaseType(name="i32"))])
    ref = ast.TypeRef(name="Point", loc=loc)
    c = ast.Const(name="P", type=ref, value=ast.ConstMap(items=[(ast.ConstString(value="x"), ast.ConstInt(value=3))]))
    p = ast.Program(path="h.thrift", name="h", definitions=[point, c])
    d = Diagnostics()
    assert resolve_program(p, d), errs(d)
    assert ref.target is point and c.evaluated == {"x": 3} and point.program is p


def test_struct_literal_missing_required_field_or_union_with_two_fields_only_warns(tmp_path):
    # Apache accepts both (thriftpy2's e_structs_0.thrift): we warn.
    prog, diags = load(tmp_path, "struct U { 1: required string name, 2: i32 age }\nconst U u = {'age': 1}\n"
                                 "union V { 1: i32 a, 2: i32 b }\nconst V v = {'a': 1, 'b': 2}\n")
    assert prog is not None
    assert const(prog, "u") == {"age": 1} and const(prog, "v") == {"a": 1, "b": 2}
    w = warns(diags)
    assert 'const "u": required field name of U not set' in w
    assert 'const "v": a union literal should set one field, not 2' in w


def test_a_failed_include_does_not_cascade(tmp_path):
    prog, diags = load(tmp_path, 'include "bad.thrift"\nstruct M { 1: bad.T t }\nconst i32 X = bad.C\n',
                       files={"bad.thrift": "struct T {\n"})
    assert prog is None
    assert [Path(d.loc.file).name for d in diags.errors] == ["bad.thrift"]


def test_empty_containers_do_not_need_their_element_types_yet(tmp_path):
    # Apache resolves an element type only for an element: these are accepted.
    prog = ok(tmp_path, "struct S { 1: list<S> l = [], 2: map<T, T> m = {} }\nconst list<T> X = []\nstruct T {}\n")
    assert [f.default_evaluated for f in prog.structs[0].fields] == [[], {}]
    assert const(prog, "X") == []
    line, col, msg = one_error(tmp_path, "const list<T> X = [{}]\nstruct T {}\n")
    assert msg.startswith('Type "T" not defined: the value of X must come after')


def test_extends_error_is_located_at_extends_loc_when_the_parser_gives_it():
    loc = ast.Location("x", 1, 9)
    svc = ast.Service(name="B", extends="A", loc=loc, extends_loc=ast.Location("x", 1, 19))
    p = ast.Program(path="x", name="x", definitions=[svc])
    d = Diagnostics()
    assert not resolve_program(p, d)
    assert errs(d) == [(1, 19, 'Service "A" has not been defined.')]


# --------------------------------------------------------------------------
# Apache's semantic rules, checked once (here, not in the parser), from IDL text


def test_parser_records_what_is_written_and_the_resolver_checks_it():
    d = Diagnostics()
    prog = parser.parse_text("struct a.b {}\nunion U { 1: required i32 x = 1, 2: i32 y = 2 }\n"
                             "enum E { A = 68719476736 }\nservice S { void f(1: optional i32 a) }\n", "t.thrift", d)
    assert prog is not None and not d.items  # nothing semantic is the parser's business
    assert prog.structs[1].fields[0].requiredness == ast.REQUIRED
    assert prog.enums[0].values[0].value == 68719476736


def test_enum_value_out_of_i32_range_is_an_error(tmp_path):
    assert one_error(tmp_path, "enum foo {\n  bar = 68719476736, baz\n}\n") == (
        2, 3, "64-bit value supplied for enum bar will be truncated.")


def test_enum_implicit_overflow_is_one_error_where_it_overflows(tmp_path):
    assert one_error(tmp_path, "enum E { A = 2147483647, B, C }\n") == (1, 26, "enum value overflow at enum B")


def test_union_member_rules_from_text(tmp_path):
    prog, diags = load(tmp_path, "union U {\n  1: i32 a\n  2: required string b\n  3: optional i64 c\n}\n")
    assert [f.requiredness for f in prog.structs[0].fields] == [ast.OPTIONAL] * 3
    assert warns(diags) == ["Union U field b: union members must be optional, ignoring specified requiredness."]
    assert one_error(tmp_path, "union U { 1: i32 a = 1, 2: i32 b = 2 }\n") == (
        1, 32, "Field b provides another default value for union U")


@pytest.mark.parametrize(
    "text, name, col",
    [("struct a.b {}", "a.b", 8), ("struct S { 1: i32 x.y }", "x.y", 19), ("enum E { A.B }", "A.B", 10),
     ("service S { void a.b() }", "a.b", 18), ("exception E { 1: i32 x.y }", "x.y", 22)],
)
def test_names_cannot_have_dots(tmp_path, text, name, col):
    assert one_error(tmp_path, text + "\n") == (1, col, f"Identifier {name} can't have a dot.")


def test_optional_and_required_in_argument_and_throws_lists(tmp_path):
    prog, diags = load(tmp_path, "exception E {}\n"
                       "service S { void f(1: optional i32 a, 2: required i32 b) throws (1: required E e, 2: optional E o) }\n")
    f = prog.services[0].functions[0]
    assert [a.requiredness for a in f.args] == [ast.DEFAULT, ast.REQUIRED]
    assert [t.requiredness for t in f.throws] == [ast.DEFAULT, ast.DEFAULT]
    assert warns(diags) == ["optional keyword is ignored in argument lists.",
                            "optional keyword is ignored in argument lists.",
                            'Exception field e: "required" is illegal here, ignoring.']


# --------------------------------------------------------------------------
# Deep inputs: errors with a location, never a RecursionError


def test_include_chain_past_the_limit_is_an_error_at_the_include(tmp_path):
    from thrift_kgen.frontend.resolver import MAX_INCLUDE_DEPTH

    n = 3 * MAX_INCLUDE_DEPTH
    files = {f"f{i}.thrift": f'include "f{i + 1}.thrift"\nstruct S{i} {{ 1: f{i + 1}.S{i + 1} x }}\n' for i in range(n)}
    files[f"f{n}.thrift"] = f"struct S{n} {{ 1: i32 x }}\n"
    write(tmp_path, files)
    d = Diagnostics()
    assert load_program(str(tmp_path / "f0.thrift"), [], d) is None
    assert errs(d) == [(1, 1, f"includes nest more than {MAX_INCLUDE_DEPTH} files deep "
                              f"(at {tmp_path / f'f{MAX_INCLUDE_DEPTH}.thrift'})")]
    assert d.errors[0].loc.file == str(tmp_path / f"f{MAX_INCLUDE_DEPTH - 1}.thrift")
    d = Diagnostics()  # a chain within the limit loads
    assert load_program(str(tmp_path / f"f{n - MAX_INCLUDE_DEPTH + 1}.thrift"), [], d) is not None, errs(d)


def test_long_typedef_chain_resolves_and_evaluates_defaults(tmp_path):
    n = 3000
    text = "".join(f"typedef T{i + 1} T{i}\n" for i in range(n)) + f"typedef i16 T{n}\nstruct A {{ 1: T0 x = 5 }}\n"
    prog = ok(tmp_path, text)
    assert prog.structs[0].fields[0].default_evaluated == 5
    assert one_error(tmp_path, text.replace("= 5", "= 70000"))[2].startswith('type error: const "x" was declared as i16')
