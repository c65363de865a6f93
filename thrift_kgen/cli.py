"""The `thrift-kgen` command line (also `python -m thrift_kgen`).

    thrift-kgen [-I DIR]... [-o DIR] [--service NAME] FILE   generate a kernel module
    thrift-kgen check [-I DIR]... FILE...                     parse and validate only
    thrift-kgen dump --json [-I DIR]... FILE                  the resolved program as JSON
    thrift-kgen --version | --help

Like Apache's `thrift`, the generate command takes the IDL file directly: a first
argument that is not a subcommand selects `generate` (so `thrift-kgen foo.thrift -o
mod/` works; `thrift-kgen generate foo.thrift` is the same).

Diagnostics go to stderr as `path:line:col: error: message`, the source line and a
caret.  Exit status: 0 success, 1 any error in the input (or in generation), 2 usage
error.  No input, however broken, produces a Python traceback (set THRIFT_KGEN_DEBUG=1
to see one for an internal error).

Code generation lives in `thrift_kgen.codegen`; this module calls
`thrift_kgen.codegen.generate(program, out_dir, options, warn=...)` with the resolved
root `Program`, the output directory (a `str`), a `GenerateOptions` (below) and where
its warnings go. Until that function exists, `generate` reports a clear error and exits 1.
"""

from __future__ import annotations

import importlib
import json
import os
import re
import sys
import traceback
from dataclasses import dataclass, field

import click

from . import __version__
from .frontend.diagnostics import CompileError, Diagnostics

DEFAULT_OUT = "gen-kmod"


@dataclass
class GenerateOptions:
    """What the generate command passes to `thrift_kgen.codegen.generate`."""

    service: str | None = None  # --service: the service to serve (needed when FILE has several)
    include_dirs: list[str] = field(default_factory=list)  # -I, in order
    verbose: bool = False  # -v
    source: str = ""  # the IDL file as given on the command line
    module_name: str | None = None  # --module: the module's name (default: the IDL file's, lower case)
    multiplex: bool = False  # --multiplex: serve every service on one port (TMultiplexedProtocol)
    fuzz: bool = False  # --fuzz: also write the libFuzzer harness and `make fuzz`
    module_version: str | None = None  # --module-version: MODULE_VERSION and dkms.conf's version


def _debug() -> bool:
    return os.environ.get("THRIFT_KGEN_DEBUG", "") not in ("", "0")


def _load(path: str, include_dirs: list[str], diags: Diagnostics):
    """Parse, resolve and check `path`; the root Program or None."""
    from .frontend.resolver import load_program

    try:
        return load_program(path, include_dirs, diags)
    except CompileError:
        return None


def _emit(diags: Diagnostics) -> None:
    for d in diags.items:
        if d.loc.line <= 0:  # a whole-file problem: no line to show
            print(f"{d.loc.file}: {d.severity}: {d.message}", file=sys.stderr)
        else:
            print(diags.render(d), file=sys.stderr)
    n = diags.error_count
    if n:
        click.echo(f"{n} error{'s' if n != 1 else ''} generated.", err=True)


def _internal_error(exc: BaseException) -> None:
    if _debug():
        traceback.print_exc()
    click.echo(f"thrift-kgen: internal error: {type(exc).__name__}: {exc}", err=True)
    click.echo("thrift-kgen: (set THRIFT_KGEN_DEBUG=1 for a traceback; please report this)", err=True)


class DefaultCommandGroup(click.Group):
    """A group whose first argument, when it is not a subcommand (nor --help /
    --version), is taken as the start of the default command's arguments."""

    default_command = "generate"

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h", "--version"):
            args = [self.default_command, *args]
        return super().parse_args(ctx, args)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        formatter.write_usage(ctx.command_path, "[-I DIR]... [-o DIR] [--service NAME] FILE")
        formatter.write_usage(ctx.command_path, "COMMAND [ARGS]...", prefix=" " * len("Usage: "))


include_option = click.option(
    "-I",
    "include_dirs",
    metavar="DIR",
    multiple=True,
    type=click.Path(file_okay=False),
    help="Add DIR to the include search path (after the including file's folder). Repeatable.",
)


@click.group(
    cls=DefaultCommandGroup,
    context_settings={"help_option_names": ["-h", "--help"]},
    invoke_without_command=False,
)
@click.version_option(__version__, "--version", prog_name="thrift-kgen", message="%(prog)s version %(version)s")
def cli() -> None:
    """Compile an Apache Thrift IDL file into a Linux kernel module that serves it.

    With a FILE (and no COMMAND), generate the module: the same as `generate FILE`.
    """


@cli.command("generate")
@include_option
@click.option("-o", "--out", "out_dir", metavar="DIR", default=DEFAULT_OUT, show_default=True,
              help="Write the generated module into DIR.")
@click.option("--service", metavar="NAME", default=None,
              help="The service to serve (needed when FILE defines several).")
@click.option("--module-version", "module_version", metavar="VERSION", default=None,
              help="MODULE_VERSION() and dkms.conf's PACKAGE_VERSION (default: thrift-kgen's).")
@click.option("--module", "module_name", metavar="NAME", default=None,
              help="Name the module NAME.ko (default: the IDL file's name in lower case).")
@click.option("--multiplex", is_flag=True,
              help="Serve every service of FILE on one port with TMultiplexedProtocol (Service:method).")
@click.option("--fuzz", is_flag=True,
              help="Also write a libFuzzer harness (<prefix>_fuzz.c) and `make fuzz` (docs/fuzzing.md).")
@click.option("-v", "--verbose", is_flag=True, help="Say what is being done.")
@click.argument("file", metavar="FILE")
def generate_cmd(include_dirs, out_dir, service, module_version, module_name, multiplex, fuzz, verbose,
                 file) -> None:
    """Generate a kernel module from FILE."""
    if module_name is not None and not re.fullmatch(r"[a-z_][a-z0-9_]{0,55}", module_name):
        click.echo(f"thrift-kgen: error: --module {module_name!r}: a module name is lower-case letters,"
                   " digits and '_', not starting with a digit", err=True)
        sys.exit(2)
    if service is not None and multiplex:
        click.echo("thrift-kgen: error: --service and --multiplex exclude each other", err=True)
        sys.exit(2)
    diags = Diagnostics()
    program = _load(file, list(include_dirs), diags)
    _emit(diags)
    if program is None:
        sys.exit(1)
    if service is not None and not any(s.name == service for s in program.services):
        names = ", ".join(s.name for s in program.services) or "none"
        click.echo(f"thrift-kgen: error: no service named {service} in {file} (services: {names})", err=True)
        sys.exit(1)
    try:
        codegen = importlib.import_module("thrift_kgen.codegen")
        generate = getattr(codegen, "generate")
    except (ImportError, AttributeError):
        click.echo(
            "thrift-kgen: error: code generation is not available in this build "
            "(thrift_kgen.codegen.generate is missing); `thrift-kgen check` and `thrift-kgen dump` work",
            err=True,
        )
        sys.exit(1)
    options = GenerateOptions(service=service, include_dirs=list(include_dirs), verbose=verbose, source=file,
                              module_name=module_name, multiplex=multiplex, fuzz=fuzz,
                              module_version=module_version)
    if verbose:
        click.echo(f"thrift-kgen: generating {program.name} into {out_dir}", err=True)
    warnings = Diagnostics(sources=diags.sources)  # renamed C names, missing handlers
    try:
        result = generate(program, out_dir, options, warn=warnings.items.append)
    except CompileError as e:  # the generator reports through the same kind of diagnostics
        gd = Diagnostics(items=list(e.diagnostics), sources=diags.sources)
        _emit(gd)
        sys.exit(1)
    finally:
        _emit(warnings)
    if result is False:
        sys.exit(1)


@cli.command("check")
@include_option
@click.argument("files", metavar="FILE...", nargs=-1, required=True)
def check_cmd(include_dirs, files) -> None:
    """Parse and validate FILE(s) only.  Exit 0 if clean, 1 on any error."""
    failed = False
    for f in files:
        diags = Diagnostics()
        program = _load(f, list(include_dirs), diags)
        _emit(diags)
        failed |= program is None
    sys.exit(1 if failed else 0)


@cli.command("dump")
@include_option
@click.option("--json", "as_json", is_flag=True, default=True, help="Dump as JSON (the only format; the default).")
@click.argument("file", metavar="FILE")
def dump_cmd(include_dirs, as_json, file) -> None:
    """Print the resolved program of FILE as JSON on stdout (schema: thrift_kgen/frontend/dump.py)."""
    from .frontend.dump import to_json

    diags = Diagnostics()
    program = _load(file, list(include_dirs), diags)
    _emit(diags)
    if program is None:
        sys.exit(1)
    click.echo(json.dumps(to_json(program), indent=2, ensure_ascii=False))


def main(argv: list[str] | None = None) -> None:
    """Console entry point: `thrift-kgen`."""
    try:
        cli.main(args=argv, prog_name="thrift-kgen", standalone_mode=True)
    except SystemExit:
        raise
    except KeyboardInterrupt:
        click.echo("thrift-kgen: interrupted", err=True)
        sys.exit(130)
    except RecursionError as e:
        click.echo(f"thrift-kgen: error: input nested too deeply ({e})", err=True)
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - never a traceback for the user
        _internal_error(e)
        sys.exit(1)


if __name__ == "__main__":
    main()
