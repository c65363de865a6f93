"""Every corpus IDL the front end accepts generates a whole module that compiles in user space.

Where test_types_compile.py checks the types files alone, this one runs the full generator
(`thrift_kgen.codegen.generate`: types, every service, dispatch, client stubs, the module glue
with its user-space main() and the handler skeleton) for each `.thrift` under
apache-thrift/test/ and realworld/, and compiles every generated `.c` (not the runtime copy)
with the flags of the generated Makefile's `make user`: -Wall -Wextra -Werror.
"""

from __future__ import annotations

import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from thrift_kgen.codegen import Options, generate
from thrift_kgen.frontend.diagnostics import CompileError, Diagnostics
from thrift_kgen.frontend.resolver import load_program

REPO = Path(__file__).resolve().parents[2]
CFLAGS = ["-std=gnu11", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
          "-D_GNU_SOURCE", f"-I{REPO / 'thrift_kgen' / 'runtime' / 'include'}"]


def _generate(path: Path, corpus: Path, out: Path) -> list[Path] | None:
    diags = Diagnostics()
    try:
        program = load_program(str(path), [str(path.parent), str(corpus / "apache-thrift" / "test")], diags)
    except CompileError:
        return None
    if program is None or diags.error_count:
        return None
    # several services: serve them all (no --service would be an error)
    generate(program, str(out), Options(multiplex=len(program.services) > 1))
    return sorted(p for p in out.glob("*.c"))


def _compile(src: Path) -> tuple[Path, int, str]:
    r = subprocess.run(["gcc", *CFLAGS, f"-I{src.parent}", str(src)], capture_output=True, text=True,
                       timeout=300)
    return src, r.returncode, r.stderr


@pytest.mark.long
def test_corpus_modules_compile(idl_corpus, tmp_path):
    files = []
    for sub in ("apache-thrift/test", "realworld"):
        files += sorted((idl_corpus / sub).rglob("*.thrift"))
    assert files, "no IDL files in the corpus"
    jobs: list[Path] = []
    modules = 0
    for f in files:
        srcs = _generate(f, idl_corpus, tmp_path / f.relative_to(idl_corpus).with_suffix(""))
        if srcs is None:
            continue
        modules += 1
        assert any(s.name.endswith("_main.c") for s in srcs), f"{f}: no module glue generated"
        jobs += srcs
    with ThreadPoolExecutor(max_workers=max(2, os.cpu_count() or 2)) as ex:
        results = list(ex.map(_compile, jobs))
    failed = [(s, err) for s, rc, err in results if rc]
    print(f"corpus: {len(files)} files, {modules} modules generated, {len(jobs)} .c compiled, "
          f"{len(failed)} failed")
    assert modules >= 0.9 * len(files)
    assert not failed, "\n\n".join(f"{s}:\n{err[:3000]}" for s, err in failed[:5])
