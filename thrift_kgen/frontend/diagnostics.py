"""Compiler-grade diagnostics: `path:line:col: error: message`, the source line, a caret.

Every stage of the front end reports through a `Diagnostics` sink.  Errors do not
raise at once: a stage records as many as it sensibly can, then the caller asks
`diags.check()`, which raises `CompileError` if any error was recorded.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import TextIO

from .ast import Location

ERROR = "error"
WARNING = "warning"
NOTE = "note"


@dataclass(frozen=True)
class Diagnostic:
    loc: Location
    severity: str  # ERROR / WARNING / NOTE
    message: str

    def format(self, source_line: str | None = None) -> str:
        head = printable_excerpt(f"{self.loc}: {self.severity}: {self.message}", 0)[0]
        if source_line is None or self.loc.line <= 0:
            return head
        line, caret_at = printable_excerpt(source_line.rstrip("\n"), self.loc.col)
        if len(line) > EXCERPT_WIDTH:  # a window around the caret
            start = max(0, min(caret_at - EXCERPT_WIDTH // 2, len(line) - EXCERPT_WIDTH))
            end = start + EXCERPT_WIDTH
            line = ("..." if start else "") + line[start:end] + ("..." if end < len(line) else "")
            caret_at += (3 if start else 0) - start
        return f"{head}\n {line}\n {' ' * caret_at}^"


EXCERPT_WIDTH = 100  # longest source excerpt shown under a diagnostic


def printable_excerpt(line: str, col: int) -> tuple[str, int]:
    """`line` safe to print on a terminal, and where column `col` (1-based) lands in it.

    A tab shows as a space; a byte that was not UTF-8 (kept by the reader as a lone
    surrogate, Python's surrogateescape) shows as `\\xNN`; any other character that is
    not printable (controls, escape sequences, a byte-order mark) as `\\xNN`/`\\uNNNN`.
    """
    out: list[str] = []
    caret_at = None
    width = 0
    for i, ch in enumerate(line):
        if i == col - 1:
            caret_at = width
        if ch == "\t":
            shown = " "
        elif 0xDC80 <= ord(ch) <= 0xDCFF:
            shown = f"\\x{ord(ch) - 0xDC00:02x}"
        elif not ch.isprintable():
            shown = f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}"
        else:
            shown = ch
        out.append(shown)
        width += len(shown)
    if caret_at is None:  # at or past the end of the line
        caret_at = width + max(col - 1 - len(line), 0)
    return "".join(out), caret_at


class CompileError(Exception):
    """Raised when a stage finished with at least one error."""

    def __init__(self, diagnostics: list[Diagnostic]):
        self.diagnostics = diagnostics
        first = next((d for d in diagnostics if d.severity == ERROR), None)
        super().__init__(f"{first.loc}: error: {first.message}" if first else "compile error")


@dataclass
class Diagnostics:
    """Collects diagnostics; knows file contents to print the offending line."""

    items: list[Diagnostic] = field(default_factory=list)
    sources: dict[str, list[str]] = field(default_factory=dict)
    max_errors: int = 50

    def add_source(self, path: str, text: str) -> None:
        # Columns count from after a leading byte-order mark (the lexer never sees it).
        self.sources[path] = text.removeprefix("\ufeff").splitlines()

    def error(self, loc: Location, message: str) -> None:
        self.items.append(Diagnostic(loc, ERROR, message))
        if self.error_count >= self.max_errors:
            raise CompileError(self.items)

    def warning(self, loc: Location, message: str) -> None:
        self.items.append(Diagnostic(loc, WARNING, message))

    def note(self, loc: Location, message: str) -> None:
        self.items.append(Diagnostic(loc, NOTE, message))

    @property
    def error_count(self) -> int:
        return sum(1 for d in self.items if d.severity == ERROR)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == ERROR]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == WARNING]

    def check(self) -> None:
        if self.error_count:
            raise CompileError(self.items)

    def source_line(self, loc: Location) -> str | None:
        lines = self.sources.get(loc.file)
        if lines is None or not 0 < loc.line <= len(lines):
            return None
        return lines[loc.line - 1]

    def render(self, d: Diagnostic) -> str:
        return d.format(self.source_line(d.loc))

    def emit(self, stream: TextIO = sys.stderr) -> None:
        for d in self.items:
            print(self.render(d), file=stream)
