"""Generated C is checkpatch-clean (Debian linux-source-6.1's checkpatch.pl, --no-tree -f).

Documented exceptions: Kbuild/Makefile are not C (checkpatch's EMBEDDED_FILENAME
remark on them is meaningless: they must name the module) and are not checked;
NEW_TYPEDEFS: an IDL `typedef` becomes a C typedef on purpose.
"""

from __future__ import annotations

import subprocess

import pytest

from codegen_util import REPO, gen

CHECKPATCH = REPO / ".cache" / "checkpatch" / "checkpatch.pl"
CASES = {
    "forwarder": REPO / "idl" / "forwarder.thrift",
    "thrift_test": REPO / "idl" / "ThriftTest.thrift",
    "alltypes": REPO / "tests" / "golden" / "inputs" / "alltypes.thrift",
    "includes": REPO / "tests" / "golden" / "inputs" / "derived.thrift",
}
# Files with several services name the one served.
SERVICE = {"thrift_test": {"service": "ThriftTest"}, "includes": {"service": "Leaf"}}


def checkpatch(out, files) -> list[str]:
    r = subprocess.run(["perl", str(CHECKPATCH), "--no-tree", "--terse", "--show-types", "-f", *files],
                       cwd=out, capture_output=True, text=True, timeout=600)
    return [ln for ln in r.stdout.splitlines()
            if (": WARNING:" in ln or ": ERROR:" in ln or ": CHECK:" in ln) and "NEW_TYPEDEFS" not in ln]


def generated(case, tmp_path):
    if not CHECKPATCH.is_file():
        pytest.skip("checkpatch.pl not set up (scripts/setup-kernels.sh)")
    idl = CASES[case]
    if not idl.is_file():
        pytest.skip(f"{idl} missing")
    out = tmp_path / "mod"
    gen(idl, out, **SERVICE.get(case, {}))
    return out


@pytest.mark.parametrize("case", sorted(CASES))
def test_checkpatch_clean_glue_and_service_headers(case, tmp_path):
    """main.c, module.h, the handler skeleton and the service headers."""
    out = generated(case, tmp_path)
    files = sorted(p.name for p in out.iterdir()
                   if p.name.endswith(("_main.c", "_module.h", "_handler.c"))
                   or (p.suffix == ".h" and not p.name.endswith("_types.h")))
    assert len(files) >= 4
    problems = checkpatch(out, files)
    assert not problems, "\n".join(problems[:60])


@pytest.mark.long
@pytest.mark.parametrize("case", sorted(CASES))
def test_checkpatch_clean_everything(case, tmp_path):
    out = generated(case, tmp_path)
    files = sorted(p.name for p in out.iterdir() if p.suffix in (".c", ".h"))
    problems = checkpatch(out, files)
    assert not problems, "\n".join(problems[:60])
