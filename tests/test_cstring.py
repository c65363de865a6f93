"""The one C string escaper (thrift_kgen.cstring), checked by compiling what it writes."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from thrift_kgen.cstring import c_string_literal

SAMPLES = [b"", b"plain", b'quote " and \\ backslash', b"??= trigraph??/", bytes(range(256)), "héllo €".encode(),
           b"\x001", b"\n\r\t7"]


def test_escapes():
    assert c_string_literal("a\"b\\c?") == '"a\\"b\\\\c\\?"'
    assert c_string_literal(b"\x00" + b"1") == '"\\0001"'  # three octal digits: the 1 stays a 1
    assert c_string_literal("é") == '"\\303\\251"'
    assert all(0x20 <= ord(c) < 0x7F for c in c_string_literal(bytes(range(256))))


@pytest.mark.skipif(shutil.which("cc") is None, reason="no C compiler")
def test_a_c_compiler_reads_back_the_same_bytes(tmp_path):
    rows = ",\n".join(f"{{ {c_string_literal(s)}, {len(s)} }}" for s in SAMPLES)
    src = tmp_path / "t.c"
    src.write_text(f"""#include <stdio.h>
struct s {{ const char *p; unsigned n; }};
static const struct s v[] = {{ {rows} }};
int main(void) {{
\tfor (unsigned i = 0; i < sizeof(v) / sizeof(v[0]); i++) {{
\t\tfor (unsigned j = 0; j < v[i].n; j++)
\t\t\tprintf("%02x", (unsigned char)v[i].p[j]);
\t\tprintf("|%u\\n", (unsigned)sizeof(v[i].p) > 0 ? v[i].n : 0);
\t}}
\treturn 0;
}}
""")
    exe = tmp_path / "t"
    subprocess.run(["cc", "-std=c11", "-Wall", "-Wextra", "-Werror", "-Wtrigraphs", "-trigraphs", "-o", str(exe), str(src)],
                   check=True)
    out = subprocess.run([str(exe)], capture_output=True, text=True, check=True).stdout.splitlines()
    assert out == [f"{s.hex()}|{len(s)}" for s in SAMPLES]
