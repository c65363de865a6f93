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
        head = f"{self.loc}: {self.severity}: {self.message}"
        if source_line is None or self.loc.line <= 0:
            return head
        line = source_line.rstrip("\n").replace("\t", " ")
        caret = " " * max(self.loc.col - 1, 0) + "^"
        return f"{head}\n {line}\n {caret}"


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
        self.sources[path] = text.splitlines()

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
