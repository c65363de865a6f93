"""The `thrift-kgen` command line (also `python -m thrift_kgen`).

    thrift-kgen [-I DIR]... [-o DIR] [--service NAME] FILE   generate a kernel module
    thrift-kgen check [-I DIR]... FILE...                     parse and validate only
    thrift-kgen dump --json [-I DIR]... FILE                  the resolved program as JSON
    thrift-kgen --version | --help

Like Apache's `thrift`, the generate command takes the IDL file directly: a first
argument that is not a subcommand selects `generate` (so `thrift-kgen foo.thrift -o
mod/` works; `thrift-kgen generate foo.thrift` is the same).  Apache's own options are
understood where they mean something here (`APACHE_OPTIONS`, below): `-out DIR` is
`-o DIR`, `-version` is `--version`, `-r`/`-strict`/`-allow-64bit-consts` are no-ops
(what they ask for is always done), `--gen LANG` is refused with the reason.

Diagnostics go to stderr as `path:line:col: error: message`, the source line and a
caret.  Exit status: 0 success, 1 any error in the input (or in generation), 2 usage
error.  No input, however broken, produces a Python traceback (set THRIFT_KGEN_DEBUG=1
to see one for an internal error).

Code generation lives in `thrift_kgen.codegen`; this module calls
`thrift_kgen.codegen.generate(program, out_dir, options, warn=...)` with the resolved
root `Program`, the output directory (a `str`), a `thrift_kgen.codegen.Options` and where
its warnings go.
"""

from __future__ import annotations

import errno
import json
import os
import re
import sys
import traceback

import click

from . import __version__
from .frontend.diagnostics import WARNING, CompileError, Diagnostics, printable_excerpt

DEFAULT_OUT = "gen-kmod"

# Apache thrift's options (`thrift -help`, 0.17) and what each becomes here.  Apache
# reads `--x` as `-x`, so both spellings are listed.  "drop": accepted, nothing to do.
APACHE_OPTIONS: dict[str, tuple[str, str]] = {
    "-out": ("-o", "the output folder (written into directly, like Apache's -out)"),
    "-verbose": ("-v", "verbose"),
    "-nowarn": ("--nowarn", "do not print warnings"),
    "-strict": ("drop", "warnings: thrift-kgen always prints every warning it has"),
    "-r": ("drop", "included files are always generated: their types are part of the module"),
    "-recurse": ("drop", "included files are always generated: their types are part of the module"),
    "-allow-64bit-consts": ("drop", "thrift-kgen never warns about 64-bit constants"),
}
APACHE_REFUSED = {
    "-gen": "thrift-kgen has one generator, a Linux kernel module in C (and its user-space server);"
            " it takes no --gen: drop it",
    "-debug": "Apache's parser trace has no thrift-kgen equivalent",
    "-allow-neg-keys": "negative field ids are not supported (a non-positive id is replaced by an"
                       " automatic one, with a warning, as Apache does without this option)",
    "-audit": "thrift-kgen has no audit mode",
    "-Iold": "thrift-kgen has no audit mode (-Iold goes with --audit)",
    "-Inew": "thrift-kgen has no audit mode (-Inew goes with --audit)",
}
# Those of APACHE_REFUSED that take a value (so `--gen c_glib` names it).
_TAKES_VALUE = {"-gen", "-audit", "-Iold", "-Inew"}


def _apache_args(args: list[str]) -> list[str]:
    """Translate Apache's option spellings (before any `--`) into ours.

    `-version` prints the version and exits; a refused option exits 2 with its reason.
    """
    out: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        if a == "--":
            out += args[i:]
            break
        key = "-" + a[2:] if a.startswith("--") else a
        name, _, value = key.partition("=")
        if key == "-version":
            click.echo(f"thrift-kgen version {__version__}")
            sys.exit(0)
        if name in APACHE_REFUSED and (value or name in _TAKES_VALUE or key == name):
            if name in _TAKES_VALUE and not value and i + 1 < len(args):
                value = args[i + 1]
            shown = f"{a.partition('=')[0]} {value}".rstrip()
            click.echo(f"thrift-kgen: error: {shown}: {APACHE_REFUSED[name]}", err=True)
            sys.exit(2)
        if key in APACHE_OPTIONS:
            ours = APACHE_OPTIONS[key][0]
            if ours != "drop":
                out.append(ours)
        else:
            out.append(a)
        i += 1
    return out


def _debug() -> bool:
    return os.environ.get("THRIFT_KGEN_DEBUG", "") not in ("", "0")


def _load(path: str, include_dirs: list[str], diags: Diagnostics):
    """Parse, resolve and check `path`; the root Program or None."""
    from .frontend.resolver import load_program

    try:
        return load_program(path, include_dirs, diags)
    except CompileError:
        return None


def _emit(diags: Diagnostics, warnings: bool = True) -> None:
    for d in diags.items:
        if d.severity == WARNING and not warnings:
            continue
        if d.loc.line <= 0:  # a whole-file problem: no line to show
            print(printable_excerpt(f"{d.loc.file}: {d.severity}: {d.message}", 0)[0], file=sys.stderr)
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
        args = _apache_args(args)
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
    Apache thrift's options are understood too (`generate --help` says how).
    """


nowarn_option = click.option("--nowarn", is_flag=True, help="Do not print warnings (Apache's -nowarn).")

APACHE_EPILOG = (
    "Apache thrift's options: -out DIR is -o DIR (thrift-kgen writes into DIR itself, as Apache's -out does;"
    " there is no gen-* folder), -version is --version, -verbose is -v, -nowarn is --nowarn; -r/-recurse,"
    " -strict and --allow-64bit-consts are accepted and change nothing (included files are always generated,"
    " every warning is always printed); --gen is refused: there is one generator."
)


def _usable_out_dir(out_dir: str) -> str | None:
    """Why `out_dir` cannot receive the module (None: it can). Nothing is created here: an
    input the generator refuses leaves no empty folder behind."""
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        return "it is a file, not a folder"
    path = os.path.abspath(out_dir)
    existing = path
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        return "cannot create the folder: Not a directory"
    if not os.access(existing, os.W_OK | os.X_OK):
        if existing == path:
            return "the folder is not writable"
        return f"cannot create the folder: {existing} is not writable (Permission denied)"
    return None


@cli.command("generate", epilog=APACHE_EPILOG)
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
@nowarn_option
@click.argument("file", metavar="FILE")
def generate_cmd(include_dirs, out_dir, service, module_version, module_name, multiplex, fuzz, verbose,
                 nowarn, file) -> None:
    """Generate a kernel module from FILE."""
    from .codegen import Options, generate

    if module_name is not None and not re.fullmatch(r"[a-z_][a-z0-9_]{0,55}", module_name):
        click.echo(f"thrift-kgen: error: --module {module_name!r}: a module name is lower-case letters,"
                   " digits and '_', not starting with a digit", err=True)
        sys.exit(2)
    if service is not None and multiplex:
        click.echo("thrift-kgen: error: --service and --multiplex exclude each other", err=True)
        sys.exit(2)
    diags = Diagnostics()
    program = _load(file, list(include_dirs), diags)
    _emit(diags, warnings=not nowarn)
    if program is None:
        sys.exit(1)
    if service is not None and not any(s.name == service for s in program.services):
        names = ", ".join(s.name for s in program.services) or "none"
        click.echo(f"thrift-kgen: error: no service named {service} in {file} (services: {names})", err=True)
        sys.exit(1)
    why = _usable_out_dir(out_dir)
    if why is not None:
        click.echo(f"thrift-kgen: error: -o {out_dir}: {why}", err=True)
        sys.exit(1)
    options = Options(service=service, include_dirs=list(include_dirs), verbose=verbose, source=file,
                      module_name=module_name, multiplex=multiplex, fuzz=fuzz,
                      module_version=module_version)
    if verbose:
        click.echo(f"thrift-kgen: generating {program.name} into {out_dir}", err=True)
    warnings = Diagnostics(sources=diags.sources)  # renamed C names, missing handlers
    try:
        result = generate(program, out_dir, options, warn=warnings.items.append)
    except CompileError as e:  # the generator reports through the same kind of diagnostics
        gd = Diagnostics(items=list(e.diagnostics), sources=diags.sources)
        _emit(gd, warnings=not nowarn)
        sys.exit(1)
    except OSError as e:  # the folder went away, a full disk, a file in the way...
        where = f" {e.filename}" if e.filename else ""
        click.echo(f"thrift-kgen: error: cannot write{where}: {e.strerror or errno.errorcode.get(e.errno, e)}",
                   err=True)
        sys.exit(1)
    finally:
        _emit(warnings)
    if result is False:
        sys.exit(1)


@cli.command("check")
@include_option
@nowarn_option
@click.argument("files", metavar="FILE...", nargs=-1, required=True)
def check_cmd(include_dirs, nowarn, files) -> None:
    """Parse and validate FILE(s) only.  Exit 0 if clean, 1 on any error."""
    failed = False
    for f in files:
        diags = Diagnostics()
        program = _load(f, list(include_dirs), diags)
        _emit(diags, warnings=not nowarn)
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
    except RecursionError:  # the front end bounds nesting; a stage past it may still recurse per level
        if _debug():
            traceback.print_exc()
        click.echo("thrift-kgen: error: the input's types or services refer to each other in chains too long"
                   " to generate (please report this; THRIFT_KGEN_DEBUG=1 shows where)", err=True)
        sys.exit(1)
    except Exception as e:  # noqa: BLE001 - never a traceback for the user
        _internal_error(e)
        sys.exit(1)


if __name__ == "__main__":
    main()
