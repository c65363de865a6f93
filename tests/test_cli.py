"""The `thrift-kgen` command line: subcommands, default command, diagnostics format,
exit statuses, and no traceback whatever the input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thrift_kgen import __version__
from thrift_kgen.cli import cli, main
from thrift_kgen.frontend.lexer import MAX_NESTING

REPO = Path(__file__).resolve().parent.parent

GOOD = """\
namespace cpp demo
enum Color { RED = 1, GREEN = 2 }
struct Point { 1: required i32 x, 2: optional i32 y = 7 }
exception Oops { 1: string why }
const list<Color> ALL = [Color.RED, Color.GREEN]
service Geo {
  Point move(1: Point p, 2: i16 dx) throws (1: Oops oops),
  oneway void ping()
}
"""


def run(*args, **kw):
    return CliRunner().invoke(cli, list(args), **kw)


@pytest.fixture
def good(tmp_path) -> Path:
    p = tmp_path / "geo.thrift"
    p.write_text(GOOD)
    return p


def test_version_and_help():
    r = run("--version")
    assert r.exit_code == 0 and r.output.strip() == f"thrift-kgen version {__version__}"
    r = run("--help")
    assert r.exit_code == 0
    for word in ("check", "dump", "generate", "FILE"):
        assert word in r.output


def test_no_arguments_is_a_usage_error():
    r = run()
    assert r.exit_code == 2


def test_check_clean_file(good):
    r = run("check", str(good))
    assert r.exit_code == 0, r.output
    assert r.output == ""


def test_check_error_format_with_source_line_and_caret(tmp_path):
    p = tmp_path / "bad.thrift"
    p.write_text("struct S {\n  1: i32 a\n  2: Nope b\n}\n")
    r = run("check", str(p))
    assert r.exit_code == 1
    lines = r.output.splitlines()
    assert lines[0] == f'{p}:3:6: error: Type "Nope" not defined'
    assert lines[1] == "   2: Nope b"
    assert lines[2] == "      ^"
    assert lines[-1] == "1 error generated."


def test_warnings_are_printed_but_do_not_fail(tmp_path):
    p = tmp_path / "w.thrift"
    p.write_text("service S { oneway i32 f() }\n")
    r = run("check", str(p))
    assert r.exit_code == 0
    assert f"{p}:1:24: warning: Oneway methods should return void." in r.output


def test_check_several_files_fails_if_any_fails(good, tmp_path):
    bad = tmp_path / "bad.thrift"
    bad.write_text("const i8 X = 300\n")
    r = run("check", str(good), str(bad))
    assert r.exit_code == 1
    assert "bad.thrift:1:14: error:" in r.output
    assert run("check", str(good), str(good)).exit_code == 0


def test_check_with_include_dirs(tmp_path):
    (tmp_path / "inc").mkdir()
    (tmp_path / "inc" / "base.thrift").write_text("struct B { 1: i32 x }\n")
    main_file = tmp_path / "m.thrift"
    main_file.write_text('include "base.thrift"\nstruct M { 1: base.B b }\n')
    r = run("check", str(main_file))
    assert r.exit_code == 1 and 'cannot find include file "base.thrift"' in r.output
    assert run("check", "-I", str(tmp_path / "inc"), str(main_file)).exit_code == 0


@pytest.mark.parametrize("make", ["missing", "directory", "binary", "empty", "nul", "deep"])
def test_broken_inputs_never_traceback(tmp_path, make):
    p = tmp_path / "in.thrift"
    if make == "missing":
        pass
    elif make == "directory":
        p.mkdir()
    elif make == "binary":
        p.write_bytes(bytes(range(256)) * 8)
    elif make == "empty":
        p.write_text("")
    elif make == "nul":
        p.write_bytes(b"struct S {\x00}\n")
    elif make == "deep":
        p.write_text("const " + "list<" * 3000 + "i32" + ">" * 3000 + " X = " + "[" * 3000 + "]" * 3000 + "\n")
    r = run("check", str(p))
    assert r.exit_code == (0 if make == "empty" else 1), r.output
    assert not isinstance(r.exception, Exception) or isinstance(r.exception, SystemExit), r.exception
    assert "Traceback" not in r.output
    if make in ("missing", "directory"):
        assert r.output.startswith(f"{p}: error: ")
    if make == "deep":  # located at the bracket past the limit
        assert r.output.startswith(f"{p}:1:{len('const ') + 5 * MAX_NESTING + 5}: error: nested too deeply")


def test_generate_at_the_nesting_limit_works(tmp_path):
    """What the front end lets through, the generator handles (no RecursionError)."""
    n = MAX_NESTING - 3  # struct braces, argument parentheses... are levels too
    p = tmp_path / "deep.thrift"
    p.write_text("struct S { 1: " + "list<" * n + "i32" + ">" * n + " x = " + "[" * (n - 1) + "]" * (n - 1) + " }\n"
                 "service Svc { void f(1: " + "map<i32," * n + "S" + ">" * n + " m) }\n")
    r = run(str(p), "-o", str(tmp_path / "mod"))
    assert r.exit_code == 0, r.output
    assert (tmp_path / "mod" / "deep_types.h").is_file()


@pytest.mark.parametrize("kind", ["structs", "services"])
def test_long_chains_of_references_never_show_python_errors(tmp_path, kind):
    """3000 structs each holding the next, or services each extending the previous: the
    front end accepts them (Apache does); generating either works or is a plain error."""
    n = 3000
    if kind == "structs":
        text = "".join(f"struct S{i} {{ 1: S{i + 1} x }}\n" for i in range(n)) + f"struct S{n} {{ 1: i32 x }}\n"
        text += "service Svc { void f(1: S0 s) }\n"
    else:
        text = "service B0 { void f0() }\n" + "".join(f"service B{i + 1} extends B{i} {{ void f{i + 1}() }}\n"
                                                   for i in range(n))
    p = tmp_path / "chain.thrift"
    p.write_text(text)
    assert run("check", str(p)).exit_code == 0
    # Several services: serve the last of the chain (every other is its base).
    serve = [] if kind == "structs" else ["--service", f"B{n}"]
    r = subprocess.run([sys.executable, "-m", "thrift_kgen", str(p), "-o", str(tmp_path / "mod"), *serve],
                       capture_output=True, text=True, cwd=REPO, timeout=600)
    assert "Traceback" not in r.stderr and "recursion" not in r.stderr.lower(), r.stderr[-2000:]
    assert r.returncode == 0 or r.stderr.startswith("thrift-kgen: error: "), r.stderr[-2000:]


def test_dump_json(good):
    r = CliRunner().invoke(cli, ["dump", "--json", str(good)])
    assert r.exit_code == 0, r.output
    doc = json.loads(r.stdout)
    assert doc["name"] == "geo"
    assert doc["enums"] == [{"name": "Color", "values": [{"name": "RED", "value": 1}, {"name": "GREEN", "value": 2}]}]
    point = doc["structs"][0]
    assert point["kind"] == "struct"
    assert point["fields"][1] == {"id": 2, "name": "y", "requiredness": "optional",
                                  "type": {"kind": "base", "name": "i32"}, "default": 7}
    assert doc["consts"][0]["value"] == [1, 2]
    assert doc["consts"][0]["type"] == {"kind": "list", "elem": {"kind": "enum", "name": "Color", "program": "geo"}}
    move = doc["services"][0]["functions"][0]
    assert move["return_type"] == {"kind": "struct", "name": "Point", "program": "geo"}
    assert [a["name"] for a in move["args"]] == ["p", "dx"]
    assert move["throws"][0]["type"]["kind"] == "exception"
    assert doc["services"][0]["functions"][1]["oneway"] is True
    assert doc["services"][0]["functions"][1]["return_type"] is None


def test_dump_of_a_bad_file_fails(tmp_path):
    p = tmp_path / "bad.thrift"
    p.write_text("struct {")
    r = run("dump", "--json", str(p))
    assert r.exit_code == 1 and "error:" in r.output


def test_default_command_calls_codegen_generate(good, monkeypatch, tmp_path):
    import thrift_kgen.codegen as codegen

    calls = []
    monkeypatch.setattr(codegen, "generate",
                        lambda program, out_dir, options, warn: calls.append((program, out_dir, options)))
    out = str(tmp_path / "mod")
    # Apache's habit: options before or after the file, no subcommand.
    for args in ([str(good), "-o", out, "--service", "Geo"], ["-I", str(tmp_path), "-o", out, str(good)],
                 ["generate", str(good), "-o", out]):
        r = run(*args)
        assert r.exit_code == 0, r.output
    assert len(calls) == 3
    program, out_dir, options = calls[0]
    assert program.name == "geo" and program.services[0].name == "Geo"
    assert out_dir == out
    assert isinstance(options, codegen.Options) and options.service == "Geo"
    assert calls[1][2].include_dirs == [str(tmp_path)]


def test_generate_refuses_bad_input_and_unknown_service(good, tmp_path, monkeypatch):
    import thrift_kgen.codegen as codegen

    monkeypatch.setattr(codegen, "generate", lambda *a: pytest.fail("must not be called"))
    r = run(str(good), "--service", "Nope")
    assert r.exit_code == 1 and "no service named Nope" in r.output
    bad = tmp_path / "bad.thrift"
    bad.write_text("service S { void f() throws (1: i32 x) }\n")
    assert run(str(bad)).exit_code == 1


def test_usage_errors_exit_2(good):
    assert run("check").exit_code == 2
    assert run("--bogus-option", str(good)).exit_code == 2
    assert run("dump").exit_code == 2


def _apache_options() -> list[str]:
    """The options `thrift -help` lists (Debian's Apache thrift compiler), or [] without it."""
    try:
        r = subprocess.run(["thrift", "-help"], capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return []
    text = (r.stdout + r.stderr).split("Available generators")[0]
    opts = []
    for m in re.finditer(r"^\s+(-{1,2}[A-Za-z][\w-]*)(\[(\w+)\])?", text, re.M):
        opts.append(m.group(1))
        if m.group(3):  # -v[erbose]: both spellings
            opts.append(m.group(1) + m.group(3))
    return opts


APACHE_WITH_VALUE = {"-o", "-out", "-I", "--gen", "--audit", "-Iold", "-Inew"}


def test_every_apache_option_is_understood(good, tmp_path):
    """Each option of `thrift -help` either works or is refused with a reason; none is a click error."""
    opts = _apache_options()
    if not opts:
        pytest.skip("Apache's thrift compiler is not installed")
    assert {"-version", "-out", "-strict", "-r", "--gen", "-I"} <= set(opts), opts
    for opt in opts:
        args = [opt, str(tmp_path) if opt in ("-o", "-out", "-I") else "x"] if opt in APACHE_WITH_VALUE else [opt]
        out = tmp_path / "m"
        r = run(*args, str(good), *(["-o", str(out)] if opt not in ("-o", "-out") else []))
        assert "No such option" not in r.output and "Traceback" not in r.output, (opt, r.output)
        if r.exit_code == 0:
            continue
        assert r.exit_code == 2, (opt, r.output)
        assert r.output.startswith(f"thrift-kgen: error: {opt}"), (opt, r.output)
        assert len(r.output.split(":", 3)[-1].strip()) > 20, (opt, r.output)  # a reason, not just "no"


def test_apache_out_version_gen_strict_recurse(good, tmp_path):
    out = tmp_path / "ut-not-this"
    r = run(str(good), "-out", str(out))
    assert r.exit_code == 0, r.output
    assert (out / "geo_types.h").is_file() and not (tmp_path / "ut").exists()
    for spelling in ("-version", "--version"):
        r = run(spelling)
        assert r.exit_code == 0 and r.output.strip() == f"thrift-kgen version {__version__}"
    r = run("--gen", "c_glib", str(good))
    assert r.exit_code == 2
    assert r.output.startswith("thrift-kgen: error: --gen c_glib: thrift-kgen has one generator")
    assert run("-gen=cpp", str(good)).output.startswith("thrift-kgen: error: -gen cpp:")
    # -r and -strict change nothing: the same files, byte for byte.
    mod = tmp_path / "mod"
    assert run(str(good), "-o", str(mod)).exit_code == 0
    plain = {p.name: p.read_bytes() for p in mod.iterdir() if p.is_file()}
    for p in mod.iterdir():
        if p.is_file():
            p.unlink()
    r = run("-strict", "-r", "--recurse", str(good), "-o", str(mod))
    assert r.exit_code == 0, r.output
    assert {p.name: p.read_bytes() for p in mod.iterdir() if p.is_file()} == plain


def test_nowarn_hides_warnings(tmp_path):
    p = tmp_path / "w.thrift"
    p.write_text("service S { oneway i32 f() }\n")
    assert "warning:" in run("check", str(p)).output
    for args in (["check", "-nowarn", str(p)], ["check", "--nowarn", str(p)]):
        r = run(*args)
        assert r.exit_code == 0 and r.output == "", r.output


def _unwritable_folder(tmp_path) -> Path | None:
    d = tmp_path / "ro"
    d.mkdir()
    d.chmod(0o555)
    try:
        (d / "probe").write_text("")
    except OSError:
        return d
    (d / "probe").unlink()
    # root ignores file modes: sysfs refuses new files even to root.
    sys_dir = Path("/sys")
    try:
        (sys_dir / "kgen-probe").write_text("")
    except OSError:
        return sys_dir
    return None


def test_bad_out_folder_is_a_plain_error(good, tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    cases = [(a_file, "it is a file, not a folder"), (a_file / "sub", "cannot create the folder: Not a directory")]
    ro = _unwritable_folder(tmp_path)
    if ro is not None:
        cases.append((ro, None))
    for out, why in cases:
        r = subprocess.run([sys.executable, "-m", "thrift_kgen", str(good), "-o", str(out)],
                           capture_output=True, text=True, cwd=REPO)
        assert r.returncode == 1, (out, r.stderr)
        assert r.stderr.startswith("thrift-kgen: error: "), r.stderr
        assert "internal error" not in r.stderr and "Traceback" not in r.stderr, r.stderr
        if why:
            assert r.stderr.strip() == f"thrift-kgen: error: -o {out}: {why}"
        else:
            assert "ermission denied" in r.stderr or "not writable" in r.stderr, r.stderr


def test_main_entry_point_turns_internal_errors_into_exit_1(monkeypatch, capsys):
    import thrift_kgen.frontend.resolver as resolver

    def boom(*a, **k):
        raise RuntimeError("bug")

    monkeypatch.setattr(resolver, "load_program", boom)
    monkeypatch.delenv("THRIFT_KGEN_DEBUG", raising=False)
    with pytest.raises(SystemExit) as e:
        main(["check", "x.thrift"])
    assert e.value.code == 1
    err = capsys.readouterr().err
    assert "internal error: RuntimeError: bug" in err and "Traceback" not in err


def test_python_dash_m_and_console_script(good, tmp_path):
    r = subprocess.run([sys.executable, "-m", "thrift_kgen", "--version"], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0 and r.stdout.strip() == f"thrift-kgen version {__version__}"
    garbage = tmp_path / "g.thrift"
    garbage.write_bytes(b"\xff\xfe\x00garbage{{{")
    r = subprocess.run([sys.executable, "-m", "thrift_kgen", "check", str(garbage)], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 1 and "Traceback" not in r.stderr and "error:" in r.stderr
    r = subprocess.run([sys.executable, "-m", "thrift_kgen", "check", str(good)], capture_output=True, text=True, cwd=REPO)
    assert r.returncode == 0, r.stderr


TOKENS = ["struct", "union", "exception", "service", "enum", "const", "typedef", "include", "namespace",
          "extends", "throws", "oneway", "void", "required", "optional", "i32", "string", "list", "map", "set",
          "<", ">", "{", "}", "(", ")", "[", "]", ",", ";", ":", "=", "1", "-7", "0x1F", "2.5", "'s'", '"t"',
          "A", "B", "A.B", "x", "\n", "/*", "*/", "//", "#", "&", "9876543210987654321"]


@settings(max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.one_of(st.binary(max_size=200), st.lists(st.sampled_from(TOKENS), max_size=40).map(lambda t: " ".join(t).encode())))
def test_fuzzed_inputs_never_traceback(tmp_path, data):
    p = tmp_path / "fuzz.thrift"
    p.write_bytes(data)
    r = run("check", str(p))
    assert r.exit_code in (0, 1), (data, r.output)
    assert r.exception is None or isinstance(r.exception, SystemExit), (data, repr(r.exception))


@settings(max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.integers(min_value=0, max_value=len(GOOD)), st.integers(min_value=0, max_value=len(GOOD)))
def test_truncated_and_spliced_files_never_traceback(tmp_path, a, b):
    p = tmp_path / "cut.thrift"
    p.write_text(GOOD[:a] + GOOD[b:])
    r = run("check", str(p))
    assert r.exit_code in (0, 1)
    assert r.exception is None or isinstance(r.exception, SystemExit), repr(r.exception)


def test_module_option_names_the_module(tmp_path):
    """--module renames the .ko (the calculator example serves tutorial.thrift as calculator.ko)."""
    from click.testing import CliRunner

    from thrift_kgen.cli import cli

    repo = Path(__file__).resolve().parent.parent
    out = tmp_path / "mod"
    res = CliRunner().invoke(cli, [str(repo / "idl" / "forwarder.thrift"), "--module", "fwd2", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert "obj-m" in (out / "Kbuild").read_text() and "fwd2.o" in (out / "Kbuild").read_text()
    bad = CliRunner().invoke(cli, [str(repo / "idl" / "forwarder.thrift"), "--module", "Bad-Name", "-o", str(out)])
    assert bad.exit_code == 2


def test_multiplex_excludes_service(tmp_path):
    from click.testing import CliRunner

    from thrift_kgen.cli import cli

    repo = Path(__file__).resolve().parent.parent
    res = CliRunner().invoke(cli, [str(repo / "idl" / "forwarder.thrift"), "--multiplex", "--service", "Forwarder",
                                   "-o", str(tmp_path / "m")])
    assert res.exit_code == 2
