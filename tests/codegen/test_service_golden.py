"""Golden tests: the generator's whole output for a few IDLs, checked in.

`pytest --update-goldens tests/codegen/test_service_golden.py` rewrites
tests/golden/<case>/ from the current generator; otherwise any difference fails,
with a unified diff. The runtime copy (runtime/) and kgen.mk (paths relative to
where the test ran) are left out. A case listed in BASE keeps only what differs from its
base case.
"""

from __future__ import annotations

import difflib
import os
import shutil
from pathlib import Path

import pytest

from codegen_util import REPO, gen

GOLDEN = REPO / "tests" / "golden"
INPUTS = GOLDEN / "inputs"
CORPUS = Path(os.environ.get("KGEN_IDL_CORPUS", REPO.parent / "shared" / "idl-corpus"))


def thrift_test_idl() -> Path:
    own = REPO / "idl" / "ThriftTest.thrift"
    return own if own.is_file() else CORPUS / "apache-thrift" / "test" / "ThriftTest.thrift"


CASES = {
    "forwarder": (lambda: REPO / "idl" / "forwarder.thrift", {}),
    "thrift_test": (thrift_test_idl, {"service": "ThriftTest"}),
    "includes": (lambda: INPUTS / "derived.thrift", {"service": "Leaf"}),
    "alltypes": (lambda: INPUTS / "alltypes.thrift", {}),
    "multiplexed": (lambda: INPUTS / "derived.thrift", {"multiplex": True, "module_name": "mux"}),
    # --fuzz: the harness and the Makefile's fuzz targets (over includes and extends)
    "includes_fuzz": (lambda: INPUTS / "derived.thrift", {"service": "Leaf", "fuzz": True}),
}

# A case that only adds to another: its goldens hold just the files that differ from the
# base case's output (every other file must be the base's), so no near-copies are kept.
BASE = {"includes_fuzz": "includes", "multiplexed": "includes"}

SKIP_TOP = {"runtime", "kgen.mk"}


def output_files(out: Path) -> dict[str, str]:
    files = {}
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out)
        # the fuzz manifest names the IDL by a path relative to where the test ran
        if p.is_file() and rel.parts[0] not in SKIP_TOP and not rel.name.endswith("_fuzz_targets.json"):
            files[rel.as_posix()] = p.read_text()
    return files


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case, tmp_path, update_goldens):
    idl_fn, opts = CASES[case]
    idl = idl_fn()
    if not idl.is_file():
        pytest.skip(f"{idl} not found")
    out = tmp_path / "out"
    gen(idl, out, **dict(opts))
    actual = output_files(out)
    if case in BASE:
        base_idl, base_opts = CASES[BASE[case]]
        gen(base_idl(), tmp_path / "base", **dict(base_opts))
        base = output_files(tmp_path / "base")
        assert set(base) <= set(actual), f"{case} lacks files of {BASE[case]}"
        actual = {rel: text for rel, text in actual.items() if base.get(rel) != text}
    expected_dir = GOLDEN / case
    if update_goldens:
        if expected_dir.exists():
            shutil.rmtree(expected_dir)
        for rel, text in actual.items():
            (expected_dir / rel).parent.mkdir(parents=True, exist_ok=True)
            (expected_dir / rel).write_text(text)
        return
    assert expected_dir.is_dir(), f"no goldens for {case}: run pytest --update-goldens"
    expected = output_files(expected_dir)
    assert sorted(actual) == sorted(expected), "generated file set differs"
    diffs = []
    for rel in sorted(actual):
        if actual[rel] != expected[rel]:
            diffs.extend(difflib.unified_diff(expected[rel].splitlines(True), actual[rel].splitlines(True),
                                              f"golden/{case}/{rel}", f"generated/{rel}"))
    assert not diffs, "generated code differs from the goldens (pytest --update-goldens to accept):\n" + "".join(diffs[:400])
