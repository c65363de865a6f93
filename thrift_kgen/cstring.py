"""C string literals for generated code: one escaper for the whole generator.

Kept outside `codegen/` and `frontend/` so that any stage can use it without
importing the other.
"""

from __future__ import annotations


def c_string_literal(value: str | bytes) -> str:
    """`value` (a str is UTF-8 encoded) as a double-quoted C string literal.

    Printable ASCII stays as is; `"` and `\\` are escaped; `?` is escaped so that no
    trigraph (`??=`...) can form; every other byte is a three-digit octal escape (always
    three digits, so a following digit cannot extend it).
    """
    data = value.encode("utf-8") if isinstance(value, str) else bytes(value)
    out = ['"']
    for b in data:
        c = chr(b)
        if c in '"\\?':
            out.append("\\" + c)
        elif 0x20 <= b < 0x7F:
            out.append(c)
        else:
            out.append(f"\\{b:03o}")
    out.append('"')
    return "".join(out)
