"""What the docs show is what the tools do: the README's diagnostic, KDIR examples, the
netcompat.h advice for handlers (docs/generator.md)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "examples" / "README.md"]


def test_readme_diagnostic_example_is_the_real_output(tmp_path):
    readme = (REPO / "README.md").read_text()
    m = re.search(r"```\n\$ cat (\S+)\n(.*?)\$ (thrift-kgen [^\n]*)\n(.*?)```", readme, re.S)
    assert m, "the README's diagnostic example is missing"
    name, idl, command, shown = m.groups()
    (tmp_path / name).write_text(idl)
    args = command.split()[1:]
    r = subprocess.run([sys.executable, "-m", "thrift_kgen", *args], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 1
    assert r.stdout + r.stderr == shown


def test_kdir_examples_name_a_kernel_that_exists():
    for doc in DOCS:
        for kdir in re.findall(r"KDIR=(\S+)", doc.read_text()):
            kdir = kdir.strip("`")
            if kdir in ("...", "$(KDIR)") or "$(uname -r)" in kdir or "<release>" in kdir:
                continue
            assert not re.search(r"/lib/modules/\d", kdir) or Path(kdir).exists(), (doc.name, kdir)


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
def test_atomic64_in_user_space_needs_netcompat(tmp_path):
    """docs/generator.md: a handler using atomic64_t includes <kgen/netcompat.h>."""
    body = "static atomic64_t n;\nint main(void) { atomic64_inc(&n); return (int)atomic64_read(&n) - 1; }\n"
    for header, ok in (("kgen/compat.h", False), ("kgen/netcompat.h", True)):
        src = tmp_path / "h.c"
        src.write_text(f"#include <{header}>\n{body}")
        r = subprocess.run(["cc", "-Wall", "-Wextra", "-Werror", "-I", str(REPO / "thrift_kgen" / "runtime" / "include"), "-o",
                            str(tmp_path / "h"), str(src)], capture_output=True, text=True)
        assert (r.returncode == 0) == ok, (header, r.stderr)
        if ok:
            assert subprocess.run([str(tmp_path / "h")]).returncode == 0
        else:
            assert "unknown type name 'atomic64_t'" in r.stderr.replace("\u2018", "'").replace("\u2019", "'")
