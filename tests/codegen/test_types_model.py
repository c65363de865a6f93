"""The C model (names, types, recursion, limits, defaults) and its generated C at run time."""

from __future__ import annotations

import subprocess
from pathlib import Path

from thrift_kgen.codegen import types as types_gen
from thrift_kgen.codegen.model import NameTable, ProgramModel, snake
from thrift_kgen.frontend.diagnostics import Diagnostics
from thrift_kgen.frontend.resolver import load_program

REPO = Path(__file__).resolve().parents[2]
RUNTIME = REPO / "thrift_kgen" / "runtime"

IDL = r'''
/** Limits, names, recursion, defaults. */
typedef string (kgen.max_len = "8") Short
enum Color { RED = 1, GREEN, DUP = 1 }
struct Lim {
  1: string name (kgen.max_len = "4"),
  2: list<i32> items (kgen.max_items = "2"),
  3: list<string> names (kgen.max_items = "3", kgen.max_len = "2"),
  4: Short s,
  5: map<string, list<string>> m (kgen.max_len = "3"),
}
struct Node {
  1: i32 v,
  2: optional Node next,
  3: list<Node> kids,
}
struct Ref { 1: Lim &lim, 2: required Node &node }
struct Kw { 1: i32 current, 2: i32 errno, 3: string linux, 4: i32 fooBar, 5: i32 foo_bar,
            6: i32 isset, 7: i32 min }
struct Defaults {
  1: i32 a = 5,
  2: optional string s = "q\"?\n",
  3: list<Kw> l = [{"current": 1}],
  4: required double d = 1.5,
  5: map<string, i64> mm = {"x": 9223372036854775807, "y": -9223372036854775808},
  6: Kw kw = {"fooBar": 2},
  7: Color c = Color.GREEN,
}
struct Mid { 1: i32 x }
struct mid { 1: i32 x }
const list<Short> NAMES = ["a", "b"]
const Defaults D = {"a": 7}
const i64 BIG = 1099511627776
const double PI = 3.25
const string HELLO = "hi"
'''

MAIN = r'''
#include <assert.h>
#include "m_types.h"

static u8 buf[1 << 16];
static u8 arena_buf[1 << 20];

static int decode_lim(const u8 *data, size_t len, struct m_lim *v)
{
	struct kg_arena a;
	struct kg_reader r;

	kg_arena_init(&a, arena_buf, sizeof(arena_buf));
	kg_reader_init(&r, data, len, KG_PROTO_BINARY, &a, NULL);
	return m_lim_decode(&r, v);
}

static size_t lim_bytes(const char *name, u32 nitems, u32 nnames, u32 name_len, const char *s)
{
	struct kg_writer w;
	u32 i;

	kg_writer_init(&w, buf, sizeof(buf), KG_PROTO_BINARY);
	kg_write_struct_begin(&w);
	kg_write_field_begin(&w, KG_T_STRING, 1);
	kg_write_string(&w, name, strlen(name));
	kg_write_field_end(&w);
	kg_write_field_begin(&w, KG_T_LIST, 2);
	kg_write_list_begin(&w, KG_T_I32, nitems);
	for (i = 0; i < nitems; i++)
		kg_write_i32(&w, i);
	kg_write_list_end(&w);
	kg_write_field_end(&w);
	kg_write_field_begin(&w, KG_T_LIST, 3);
	kg_write_list_begin(&w, KG_T_STRING, nnames);
	for (i = 0; i < nnames; i++)
		kg_write_string(&w, "xyzw", name_len);
	kg_write_list_end(&w);
	kg_write_field_end(&w);
	kg_write_field_begin(&w, KG_T_STRING, 4);
	kg_write_string(&w, s, strlen(s));
	kg_write_field_end(&w);
	kg_write_field_stop(&w);
	kg_write_struct_end(&w);
	assert(!w.err);
	return w.len;
}

static int node_chain(int depth)
{
	struct kg_writer w;
	struct kg_arena a;
	struct kg_reader r;
	struct m_node n;
	int i, err;

	kg_writer_init(&w, buf, sizeof(buf), KG_PROTO_BINARY);
	for (i = 0; i < depth; i++) {
		kg_write_field_begin(&w, KG_T_STRUCT, 2);
	}
	for (i = 0; i < depth; i++) {
		kg_write_field_stop(&w);
	}
	kg_write_field_stop(&w);
	assert(!w.err);
	kg_arena_init(&a, arena_buf, sizeof(arena_buf));
	kg_reader_init(&r, buf, w.len, KG_PROTO_BINARY, &a, NULL);
	err = m_node_decode(&r, &n);
	if (!err) {
		const struct m_node *p = &n;

		for (i = 0; i < depth; i++) {
			assert(p->isset.next && p->next);
			p = p->next;
		}
		assert(!p->isset.next);
		assert(m_node_encoded_size(&n, KG_PROTO_BINARY) == w.len);
	}
	return err;
}

int main(void)
{
	struct m_lim lim;
	struct m_defaults d;
	struct m_ref ref;
	struct kg_writer w;
	size_t n;

	n = lim_bytes("abcd", 2, 3, 2, "12345678");
	assert(decode_lim(buf, n, &lim) == 0);
	assert(lim.items.count == 2 && lim.names.count == 3 && lim.s.len == 8);
	n = lim_bytes("abcde", 2, 3, 2, "x");
	assert(decode_lim(buf, n, &lim) == -EMSGSIZE);
	n = lim_bytes("abc", 3, 0, 2, "x");
	assert(decode_lim(buf, n, &lim) == -EMSGSIZE);
	n = lim_bytes("abc", 0, 4, 2, "x");
	assert(decode_lim(buf, n, &lim) == -EMSGSIZE);
	n = lim_bytes("abc", 0, 1, 3, "x");
	assert(decode_lim(buf, n, &lim) == -EMSGSIZE);
	n = lim_bytes("abc", 0, 0, 0, "123456789");
	assert(decode_lim(buf, n, &lim) == -EMSGSIZE);

	/* recursion: by pointer, bounded by the reader's depth limit */
	assert(node_chain(10) == 0);
	assert(node_chain(200) < 0);

	/* defaults */
	m_defaults_init(&d);
	assert(d.a == 5 && d.isset.a);
	assert(!d.isset.s && d.s.len == 4 && !memcmp(d.s.data, "q\"?\n", 4));
	assert(d.l.count == 1 && d.l.elems[0].current_ == 1 && d.l.elems[0].isset.current_);
	assert(d.d == 0x3ff8000000000000ULL);
	assert(d.mm.count == 2 && d.mm.entries[0].value == S64_MAX && d.mm.entries[1].value == S64_MIN);
	assert(d.kw.foo_bar == 2 && d.kw.isset.foo_bar && !d.kw.isset.foo_bar_2);
	assert(d.c == M_COLOR_GREEN);
	assert(m_d.a == 7 && m_d.isset.a && m_d.kw.foo_bar == 2);
	assert(m_names.count == 2 && m_names.elems[1].data[0] == 'b');
	assert(M_BIG == 1099511627776LL && M_PI == 0x400a000000000000ULL);
	assert(m_hello.len == 2);
	assert(!strcmp(m_color_name(1), "RED") && !strcmp(m_color_name(2), "GREEN") && !m_color_name(3));

	/* a cyclic value (a handler's bug) ends in an error, not a stack overflow */
	{
		struct m_node cyc;

		m_node_init(&cyc);
		cyc.next = &cyc;
		cyc.isset.next = true;
		assert(m_node_encoded_size(&cyc, KG_PROTO_BINARY) > 0);
		kg_writer_init(&w, buf, sizeof(buf), KG_PROTO_BINARY);
		assert(m_node_encode(&w, &cyc) == -EMSGSIZE);
	}

	/* a required reference field left NULL is an encode error */
	memset(&ref, 0, sizeof(ref));
	kg_writer_init(&w, buf, sizeof(buf), KG_PROTO_BINARY);
	assert(m_ref_encode(&w, &ref) == -EINVAL);
	return 0;
}
'''


def _load(tmp: Path):
    (tmp / "m.thrift").write_text(IDL)
    diags = Diagnostics()
    program = load_program(str(tmp / "m.thrift"), [], diags)
    assert program is not None, [str(d) for d in diags.items]
    return program


def test_snake():
    assert snake("CrazyNesting") == "crazy_nesting"
    assert snake("userMap") == "user_map"
    assert snake("HTTP2Server") == "http2_server"
    assert snake("i32_thing") == "i32_thing"
    assert snake("Xtruct2") == "xtruct2"


def test_name_table_is_deterministic():
    t = NameTable()
    assert t.claim("foo") == "foo"
    assert t.claim("foo") == "foo_2"
    assert t.claim("int") == "int_"
    assert t.claim("current") == "current_"
    t2 = NameTable()
    assert [t2.claim(x) for x in ("foo", "foo", "int")] == ["foo", "foo_2", "int_"]


def test_model(tmp_path):
    pm = ProgramModel.of(_load(tmp_path))
    assert pm.prefix == "m" and pm.types_h == "m_types.h"
    by = {s.ast.name: s for s in pm.structs}
    assert by["Mid"].cname == "m_mid" and by["mid"].cname == "m_mid_2"
    kw = [f.member for f in by["Kw"].fields]
    assert kw == ["current_", "errno_", "linux_", "foo_bar", "foo_bar_2", "isset_2", "min_"]
    node = {f.name: f for f in by["Node"].fields}
    assert node["next"].pointer and not node["kids"].pointer
    assert node["kids"].ctype.c == "struct kg_list_m_node"
    ref = {f.name: f for f in by["Ref"].fields}
    assert ref["lim"].pointer and ref["node"].pointer
    lim = {f.name: f for f in by["Lim"].fields}
    assert lim["name"].max_len == 4 and lim["items"].max_items == 2
    assert lim["names"].max_items == 3 and lim["names"].max_len == 2
    assert lim["s"].max_len == 8  # from the typedef
    assert lim["m"].max_len == 3 and lim["m"].max_items is None
    enum = pm.enums[0]
    assert [v.cname for v in enum.values] == ["M_COLOR_RED", "M_COLOR_GREEN", "M_COLOR_DUP"]
    assert [v.unique for v in enum.values] == [True, True, False]
    assert {t.cname for t in pm.typedefs} == {"m_short_t"}
    consts = {c.ast.name: c for c in pm.consts}
    assert consts["BIG"].define == "1099511627776LL" and consts["BIG"].cname == "M_BIG"
    assert consts["PI"].define == "0x400a000000000000ULL"
    assert consts["HELLO"].init and consts["HELLO"].cname == "m_hello"


def test_generated_runs(tmp_path):
    program = _load(tmp_path)
    for name, text in types_gen.generate_files(program).items():
        (tmp_path / name).write_text(text)
    (tmp_path / "main.c").write_text(MAIN)
    core = sorted(str(p) for p in (RUNTIME / "core").glob("*.c") if p.name.startswith(("proto", "arena", "mem")))
    exe = tmp_path / "main"
    r = subprocess.run(["gcc", "-std=gnu11", "-O1", "-g", "-Wall", "-Wextra", "-Werror",
                        "-Wno-unused-parameter", "-fsanitize=address,undefined",
                        "-fno-sanitize-recover=all", f"-I{RUNTIME / 'include'}", f"-I{tmp_path}",
                        "-o", str(exe), str(tmp_path / "main.c"), str(tmp_path / "m_types.c"), *core],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([str(exe)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr


def test_files_have_banner_and_spdx(tmp_path):
    files = types_gen.generate_files(_load(tmp_path))
    h, c = files["m_types.h"], files["m_types.c"]
    assert h.startswith("/* SPDX-License-Identifier: GPL-2.0 */\n")
    assert c.startswith("// SPDX-License-Identifier: GPL-2.0\n")
    for text in (h, c):
        assert "Generated by thrift-kgen" in text and "Do not edit" in text
    assert " * struct m_lim - Thrift struct Lim" in h
    assert "Limits, names, recursion, defaults." in h


def _interface(path: Path) -> dict:
    """Names, ids, types, requiredness and defaults of every definition."""
    from thrift_kgen.frontend import ast
    from thrift_kgen.frontend.resolver import type_str

    diags = Diagnostics()
    program = load_program(str(path), [], diags)
    assert program is not None, [str(d) for d in diags.items]
    out: dict = {}
    for d in program.definitions:
        if isinstance(d, ast.Struct):
            out[d.name] = (d.kind, [(f.id, f.name, type_str(f.type), f.requiredness, f.default_evaluated)
                                    for f in d.fields])
        elif isinstance(d, ast.Enum):
            out[d.name] = [(v.name, v.value) for v in d.values]
        elif isinstance(d, ast.Typedef):
            out[d.name] = type_str(d.type)
        elif isinstance(d, ast.Const):
            out[d.name] = (type_str(d.type), d.evaluated)
        elif isinstance(d, ast.Service):
            out[d.name] = [(f.name, type_str(f.return_type) if f.return_type else "void", f.oneway,
                            [(a.id, a.name, type_str(a.type)) for a in f.args],
                            [(t.id, t.name, type_str(t.type)) for t in f.throws])
                           for f in d.functions]
    return out


def test_our_thrifttest_matches_apache(idl_corpus):
    """idl/ThriftTest.thrift (written for this project) has Apache's interface."""
    ours = _interface(REPO / "idl" / "ThriftTest.thrift")
    theirs = _interface(idl_corpus / "apache-thrift" / "test" / "ThriftTest.thrift")
    assert ours == theirs


def test_included_program(tmp_path):
    """An included file's types keep its own prefix and header; containers of its
    structs are declared once (guarded) and both .c files compile together."""
    (tmp_path / "base.thrift").write_text(
        "struct Item { 1: i32 id, 2: string name }\n"
        "enum Kind { A = 1, B = 2 }\n"
        "struct Box { 1: list<Item> items }\n")
    (tmp_path / "top.thrift").write_text(
        'include "base.thrift"\n'
        "struct Top { 1: base.Item item, 2: list<base.Item> items, 3: map<base.Kind, base.Box> boxes }\n"
        'const base.Item FIRST = {"id": 1, "name": "one"}\n')
    diags = Diagnostics()
    program = load_program(str(tmp_path / "top.thrift"), [], diags)
    assert program is not None, [str(d) for d in diags.items]
    from thrift_kgen.codegen import all_programs

    for p in all_programs(program):
        for name, text in types_gen.generate_files(p).items():
            (tmp_path / name).write_text(text)
    top_h = (tmp_path / "top_types.h").read_text()
    assert '#include "base_types.h"' in top_h
    assert "struct base_item item;" in top_h and "struct kg_list_base_item items;" in top_h
    assert "const struct base_item top_first;" in top_h
    (tmp_path / "main.c").write_text(
        '#include "top_types.h"\n#include "base_types.h"\n'
        "int main(void)\n{\n\tstruct top_top t;\n\n\ttop_top_init(&t);\n"
        "\treturn top_first.id == 1 && t.items.count == 0 && BASE_KIND_B == 2 ? 0 : 1;\n}\n")
    core = sorted(str(p) for p in (RUNTIME / "core").glob("*.c") if p.name.startswith(("proto", "arena", "mem")))
    exe = tmp_path / "main"
    r = subprocess.run(["gcc", "-std=gnu11", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
                        f"-I{RUNTIME / 'include'}", f"-I{tmp_path}", "-o", str(exe), str(tmp_path / "main.c"),
                        str(tmp_path / "top_types.c"), str(tmp_path / "base_types.c"), *core],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert subprocess.run([str(exe)]).returncode == 0
