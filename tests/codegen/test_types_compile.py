"""Every IDL of the corpus that the front end accepts gets types that compile.

For each `.thrift` under apache-thrift/test/ and realworld/ that `load_program`
accepts, `<prefix>_types.h/.c` are generated for it and every file it includes,
and each `.c` is compiled with gcc -fsyntax-only -Wall -Wextra -Werror (plus the
prototype/declaration warnings the kernel's W=1 adds) against thrift_kgen/runtime/include.
"""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from thrift_kgen.codegen import all_programs
from thrift_kgen.codegen import types as types_gen
from thrift_kgen.frontend.diagnostics import Diagnostics
from thrift_kgen.frontend.resolver import load_program

REPO = Path(__file__).resolve().parents[2]
CFLAGS = ["-std=gnu11", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-Wmissing-prototypes",
          "-Wmissing-declarations", "-Wstrict-prototypes", "-Wold-style-definition", "-Wvla",
          "-Wshadow", f"-I{REPO / 'thrift_kgen' / 'runtime' / 'include'}"]


def _corpus_files(corpus: Path) -> list[Path]:
    out = []
    for sub in ("apache-thrift/test", "realworld"):
        out += sorted((corpus / sub).rglob("*.thrift"))
    return out


def _generate(path: Path, corpus: Path, out: Path) -> list[Path] | None:
    diags = Diagnostics()
    try:
        program = load_program(str(path), [str(path.parent), str(corpus / "apache-thrift" / "test")],
                               diags)
    except Exception:  # the front end's business, not ours
        return None
    if program is None:
        return None
    out.mkdir(parents=True, exist_ok=True)
    sources = []
    for p in all_programs(program):
        for name, text in types_gen.generate_files(p).items():
            (out / name).write_text(text)
            if name.endswith(".c"):
                sources.append(out / name)
    return sources


def _compile(src: Path) -> tuple[Path, int, str]:
    r = subprocess.run(["gcc", *CFLAGS, f"-I{src.parent}", str(src)], capture_output=True, text=True,
                       timeout=300)
    return src, r.returncode, r.stderr


def test_corpus_types_compile(idl_corpus, tmp_path):
    files = _corpus_files(idl_corpus)
    assert files, "no IDL files in the corpus"
    jobs: list[Path] = []
    accepted = 0
    for f in files:
        rel = f.relative_to(idl_corpus).with_suffix("")
        srcs = _generate(f, idl_corpus, tmp_path / rel)
        if srcs is None:
            continue
        accepted += 1
        jobs += srcs
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as ex:
        results = list(ex.map(_compile, jobs))
    failed = [(s, err) for s, rc, err in results if rc]
    print(f"corpus: {len(files)} files, {accepted} accepted, {len(jobs)} types.c compiled, "
          f"{len(failed)} failed")
    assert accepted >= 0.9 * len(files)
    assert not failed, "\n\n".join(f"{s}:\n{err[:3000]}" for s, err in failed[:5])


@pytest.mark.skipif(subprocess.run(["which", "sparse"], capture_output=True).returncode != 0,
                    reason="sparse not installed")
def test_thrifttest_sparse_clean(tmp_path):
    """sparse has nothing to say about the generated code (user-space headers aside)."""
    diags = Diagnostics()
    program = load_program(str(REPO / "idl" / "ThriftTest.thrift"), [], diags)
    assert program is not None
    for name, text in types_gen.generate_files(program).items():
        (tmp_path / name).write_text(text)
    r = subprocess.run(["sparse", "-Wsparse-all", f"-I{REPO / 'thrift_kgen' / 'runtime' / 'include'}", f"-I{tmp_path}",
                        str(tmp_path / "thrift_test_types.c")], capture_output=True, text=True)
    ours = [line for line in r.stderr.splitlines()
            if str(tmp_path) in line and "in included file" not in line]
    assert not ours, "\n".join(ours)


def _kernel_doc() -> str | None:
    found = sorted(Path("/usr/src").glob("linux-headers-*/scripts/kernel-doc"))
    return str(found[-1]) if found else None


@pytest.mark.skipif(_kernel_doc() is None, reason="no kernel headers with scripts/kernel-doc")
def test_thrifttest_kernel_doc_clean(tmp_path):
    """The header's kernel-doc comments (from the IDL's doctext) pass scripts/kernel-doc."""
    diags = Diagnostics()
    program = load_program(str(REPO / "idl" / "ThriftTest.thrift"), [], diags)
    assert program is not None
    for name, text in types_gen.generate_files(program).items():
        (tmp_path / name).write_text(text)
    r = subprocess.run(["perl", _kernel_doc(), "-none", str(tmp_path / "thrift_test_types.h")],
                       capture_output=True, text=True)
    assert r.returncode == 0 and not r.stderr.strip(), r.stderr
