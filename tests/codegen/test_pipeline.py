"""The generator's structure and what it promises a user, each by building or running the output.

* no import cycle in thrift_kgen/ (the chain naming -> lowering -> rendering never points back);
* one name table per module: a clash between an IDL struct and a service's args struct, and a
  file name starting with a digit, resolve with a warning and the module builds (`make user`
  and a kernel build; --module-version reaches MODULE_VERSION, checked with modinfo);
* several services and no --service: an error naming them;
* a kept handler file missing handlers: a fresh `.skeleton` and the list, at generation time;
* `kgen.mk` with the documented snippet: plain `make` builds the user's default goal, and the
  IDL is regenerated from another folder with relative -I paths;
* the README's parameter table is the one params.py makes.
"""

from __future__ import annotations

import ast as pyast
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from codegen_util import REPO, gen, load, make
from thrift_kgen.cli import cli
from thrift_kgen.codegen import Options, generate
from thrift_kgen.codegen.params import PARAMS, readme_table
from thrift_kgen.frontend.diagnostics import CompileError

KERNELS = REPO / ".cache" / "kernels" / "kernels.json"
KGEN = Path(sys.executable).with_name("thrift-kgen")


def _kdir() -> Path | None:
    if not KERNELS.is_file():
        return None
    for k in json.loads(KERNELS.read_text()):
        if "-rt" not in k["version"] and Path(k["kdir"]).is_dir():
            return Path(k["kdir"])
    return None


def _kernel_build(out: Path) -> subprocess.CompletedProcess:
    kdir = _kdir()
    if kdir is None:
        pytest.skip("no kernel headers (scripts/setup-kernels.sh)")
    return subprocess.run(["nice", "make", "-C", str(out), f"KDIR={kdir}", "W=1", "modules"],
                          capture_output=True, text=True, timeout=900)


# ---- structure ----------------------------------------------------------------------------

def _imports(path: Path, package: str) -> set[str]:
    """Modules of thrift_kgen that `path` imports, at any depth (function-level imports too)."""
    tree = pyast.parse(path.read_text())
    out = set()
    for node in pyast.walk(tree):
        if isinstance(node, pyast.Import):
            out |= {a.name for a in node.names if a.name.startswith("thrift_kgen")}
        elif isinstance(node, pyast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - node.level + 1]
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            if not mod.startswith("thrift_kgen"):
                continue
            out.add(mod)
            for a in node.names:  # `from . import glue` imports a module
                out.add(f"{mod}.{a.name}")
    return out


def test_no_import_cycles():
    root = REPO / "thrift_kgen"
    modules = {}
    for p in root.rglob("*.py"):
        rel = p.relative_to(REPO).with_suffix("")
        name = ".".join(rel.parts[:-1] if rel.name == "__init__" else rel.parts)
        package = name if rel.name == "__init__" else name.rsplit(".", 1)[0]
        modules[name] = (p, package)
    graph = {m: sorted(i for i in _imports(p, pkg) if i in modules and i != m)
             for m, (p, pkg) in modules.items()}
    # a package's __init__ importing its own submodules is the package, not a cycle
    graph = {m: [i for i in deps if not (m != "thrift_kgen" and i.startswith(m + "."))
                 or m == i] for m, deps in graph.items()}
    assert "thrift_kgen.codegen.naming" in graph and graph["thrift_kgen.codegen.module"]
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m):
        state[m] = 1
        stack.append(m)
        for d in graph[m]:
            if state.get(d) == 1:
                raise AssertionError("import cycle: " + " -> ".join(stack[stack.index(d):] + [d]))
            if d not in state:
                visit(d)
        stack.pop()
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m)


# ---- names ----------------------------------------------------------------------------------

CLASH = """\
struct CalcDivideArgs {
  1: i32 x
}

service Calc {
  i32 divide(1: i32 a, 2: i32 b)
}
"""

CLASH_HANDLER = """\
#include "clash_module.h"

int clash_handler_init(void **data)
{
	*data = NULL;
	return 0;
}

void clash_handler_exit(void *data)
{
}

int clash_calc_divide(struct kg_call *call, s32 a, s32 b, s32 *result)
{
	struct clash_calc_divide_args idl_struct = { .x = a };

	*result = b ? idl_struct.x / b : 0;
	return 0;
}
"""


@pytest.mark.long
def test_name_clash_resolved_and_builds(tmp_path):
    idl = tmp_path / "clash.thrift"
    idl.write_text(CLASH)
    out = tmp_path / "mod"
    out.mkdir()
    (out / "clash_handler.c").write_text(CLASH_HANDLER)
    r = CliRunner().invoke(cli, [str(idl), "-o", str(out), "--module-version", "1.2.3-test"])
    assert r.exit_code == 0, r.output
    assert (f"{idl}:6:7: warning: the args struct of Calc.divide: C name struct "
            "clash_calc_divide_args is taken by struct CalcDivideArgs; using "
            "clash_calc_divide_args_2 instead") in r.output
    svc = (out / "clash_calc.h").read_text()
    assert "struct clash_calc_divide_args_2 {" in svc
    assert "struct clash_calc_divide_args {" in (out / "clash_types.h").read_text()
    assert 'MODULE_VERSION("1.2.3-test");' in (out / "clash_main.c").read_text()
    assert 'PACKAGE_VERSION="1.2.3-test"' in (out / "dkms.conf").read_text()
    assert "--module-version 1.2.3-test" in (out / "kgen.mk").read_text()
    # the same run twice: the same names (the table is deterministic)
    again = tmp_path / "again"
    gen(idl, again, module_version="1.2.3-test")
    assert (again / "clash_calc.h").read_text() == svc
    r = make(out, "user")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    r = _kernel_build(out)
    assert r.returncode == 0 and "warning:" not in r.stderr, r.stdout[-2000:] + r.stderr[-4000:]
    info = subprocess.run(["modinfo", "-F", "version", str(out / "clash.ko")],
                          capture_output=True, text=True)
    assert info.stdout.strip() == "1.2.3-test", info.stdout + info.stderr


@pytest.mark.long
def test_leading_digit_builds(tmp_path):
    idl = tmp_path / "2echo.thrift"
    idl.write_text("struct Msg {\n  1: string text\n}\n\nservice Echo {\n  Msg echo(1: Msg m)\n}\n")
    out = tmp_path / "mod"
    warnings = []
    generate(load(idl), out, Options(), warn=warnings.append)
    assert [w.message for w in warnings] == [
        "2echo.thrift starts with a digit, which C names cannot: C prefix n2echo, module m_2echo"]
    main = (out / "n2echo_main.c").read_text()
    assert "n2echo_echo_process" in main and "int 2echo" not in main
    assert "obj-m := m_2echo.o" in (out / "Kbuild").read_text()
    r = make(out, "user")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    r = _kernel_build(out)
    assert r.returncode == 0 and "warning:" not in r.stderr, r.stdout[-2000:] + r.stderr[-4000:]
    assert (out / "m_2echo.ko").is_file()


def test_keyword_and_glue_names_resolved(tmp_path):
    """IDL names that are C keywords, or take a name the glue uses, are renamed with a warning."""
    idl = tmp_path / "kw.thrift"
    idl.write_text("struct Process {\n  1: i32 int\n}\n\nservice S {\n  Process get(1: i32 if)\n}\n")
    warnings = []
    generate(load(idl), tmp_path / "mod", Options(), warn=warnings.append)
    # struct Process is the tag `struct kw_process`, no clash with the glue's kw_process()
    assert [(w.loc.line, w.message) for w in warnings] == [
        (2, "field Process.int: int is a C keyword or kernel macro; using int_"),
        (6, "field S.get args.if: if is a C keyword or kernel macro; using if_")]
    types = (tmp_path / "mod" / "kw_types.h").read_text()
    assert "s32 int_;" in types
    r = make(tmp_path / "mod", "user")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]


# ---- user-facing --------------------------------------------------------------------------

def test_several_services_need_service(tmp_path):
    idl = tmp_path / "two.thrift"
    idl.write_text("service A {\n  void a()\n}\n\nservice B {\n  void b()\n}\n")
    r = CliRunner().invoke(cli, [str(idl), "-o", str(tmp_path / "out")])
    assert r.exit_code == 1
    assert "defines 2 services (A, B): choose one with --service NAME" in r.output
    assert not (tmp_path / "out").exists()
    r = CliRunner().invoke(cli, [str(idl), "-o", str(tmp_path / "out"), "--service", "B"])
    assert r.exit_code == 0, r.output
    assert 'serving B on' in (tmp_path / "out" / "two_main.c").read_text()


GROWN = """\
service Notes {
  void put(1: string text)
  string get(1: i32 id)
}
"""


def test_missing_handlers_reported_at_generation(tmp_path):
    idl = tmp_path / "notes.thrift"
    idl.write_text("service Notes {\n  void put(1: string text)\n}\n")
    out = tmp_path / "mod"
    r = CliRunner().invoke(cli, [str(idl), "-o", str(out)])
    assert r.exit_code == 0 and "warning" not in r.output, r.output
    handler = out / "notes_handler.c"
    kept = handler.read_text()
    idl.write_text(GROWN)  # the IDL gains a method; the user's file stays as it was
    r = CliRunner().invoke(cli, [str(idl), "-o", str(out)])
    assert r.exit_code == 0, r.output
    assert (f"{idl}:3:10: warning: notes_handler.c has no handler notes_notes_get() for "
            "Notes.get; notes_handler.c.skeleton has one") in r.output
    assert "notes_notes_put()" not in r.output
    assert handler.read_text() == kept
    skeleton = (out / "notes_handler.c.skeleton").read_text()
    assert "int notes_notes_get(struct kg_call *call, s32 id, struct kg_bytes *result)" in skeleton
    # the user copies the new handler over: the warning and the stale skeleton go
    start = skeleton.index("int notes_notes_get(")
    handler.write_text(kept + "\n" + skeleton[start:])
    r = CliRunner().invoke(cli, [str(idl), "-o", str(out)])
    assert r.exit_code == 0 and "warning" not in r.output, r.output
    assert not (out / "notes_handler.c.skeleton").exists()
    r = make(out, "user")
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]


def test_kgen_mk_documented_snippet(tmp_path):
    """`-include mod/kgen.mk` first: plain make runs the user's goal; the IDL (which includes
    a file found with a relative -I) is regenerated when make runs in another folder."""
    inc = tmp_path / "inc"
    inc.mkdir()
    (inc / "common.thrift").write_text("struct Item {\n  1: i32 id\n}\n")
    idl = tmp_path / "idl" / "store.thrift"
    idl.parent.mkdir()
    idl.write_text('include "common.thrift"\n\nservice Store {\n  common.Item get(1: i32 id)\n}\n')
    proj = tmp_path / "proj"
    proj.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    r = subprocess.run([str(KGEN), "-I", "../inc", "../idl/store.thrift", "-o", "../proj/mod"],
                       cwd=elsewhere, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    (proj / "Makefile").write_text("-include mod/kgen.mk\n\nall: mod/.kgen-stamp\n"
                                   "\techo built > built.txt\n")
    env = {**os.environ, "PATH": f"{KGEN.parent}:{os.environ['PATH']}"}
    r = subprocess.run(["make"], cwd=proj, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert (proj / "built.txt").read_text() == "built\n"  # the user's default goal ran
    first = (proj / "mod" / "store_store.h").read_text()
    idl.write_text(idl.read_text().replace("get(1: i32 id)", "get(1: i32 id, 2: i32 version)"))
    os.utime(idl, (idl.stat().st_mtime + 5,) * 2)
    r = subprocess.run(["make"], cwd=proj, capture_output=True, text=True, env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    regenerated = (proj / "mod" / "store_store.h").read_text()
    assert regenerated != first and "s32 version" in regenerated
    # and from yet another folder, through make -C
    os.utime(idl, (idl.stat().st_mtime + 10,) * 2)
    r = subprocess.run(["make", "-C", str(proj)], cwd=tmp_path, capture_output=True, text=True,
                       env=env)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "thrift-kgen" in r.stdout


def test_readme_parameter_table():
    """The README's table is params.py's (python -m thrift_kgen.codegen.params prints it)."""
    text = (REPO / "README.md").read_text()
    begin, end = "<!-- params: python -m thrift_kgen.codegen.params -->\n", "<!-- /params -->"
    assert begin in text and end in text
    table = text[text.index(begin) + len(begin):text.index(end)]
    assert table == readme_table()
    assert len(PARAMS) == table.count("\n| `")


def test_params_reach_module_and_flags(tmp_path):
    """Every parameter is a module_param and a --flag of the user-space server."""
    out = tmp_path / "mod"
    gen(REPO / "idl" / "forwarder.thrift", out)
    main = (out / "forwarder_main.c").read_text()
    r = make(out, "user")
    assert r.returncode == 0, r.stderr[-3000:]
    helptext = subprocess.run([str(out / "forwarder_user"), "--help"], capture_output=True,
                              text=True).stdout
    for p in PARAMS:
        if p.var == p.name:
            assert f"module_param({p.name}, {p.param_type}, 0444);" in main
        else:
            assert f"module_param_named({p.name}, {p.var}, {p.param_type}, 0444);" in main
        assert f"--{p.flag} " in helptext
    bad = subprocess.run([str(out / "forwarder_user"), "--wq-mode", "3"], capture_output=True,
                         text=True)
    assert bad.returncode == 2 and "--wq-mode: 3 out of range (at most 2)" in bad.stderr
    bad = subprocess.run([str(out / "forwarder_user"), "--protocol", "json"], capture_output=True,
                         text=True)
    assert bad.returncode == 2 and 'unknown protocol "json" (auto, binary, compact)' in bad.stderr


def test_module_version_checked(tmp_path):
    with pytest.raises(CompileError):
        gen(REPO / "idl" / "forwarder.thrift", tmp_path / "m", module_version='1"; rm -rf /')
