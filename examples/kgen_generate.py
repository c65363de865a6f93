# SPDX-License-Identifier: GPL-2.0
"""thrift-kgen with a module name: `python kgen_generate.py --module-name NAME IDL -o DIR`.

The generator supports a module name other than the IDL file's
(thrift_kgen.codegen.Options.module_name), the command line does not (yet): the
calculator example serves Apache's tutorial.thrift as calculator.ko. Everything
else is as `thrift-kgen IDL -o DIR`.
"""

import argparse
import sys

from thrift_kgen.codegen import Options, generate
from thrift_kgen.frontend.diagnostics import CompileError, Diagnostics
from thrift_kgen.frontend.resolver import load_program


def main() -> int:
    ap = argparse.ArgumentParser(prog="kgen_generate.py")
    ap.add_argument("--module-name", required=True)
    ap.add_argument("-I", dest="include_dirs", action="append", default=[])
    ap.add_argument("-o", dest="out", default="gen-kmod")
    ap.add_argument("idl")
    a = ap.parse_args()
    diags = Diagnostics()
    try:
        program = load_program(a.idl, a.include_dirs, diags)
    except CompileError:
        program = None
    if program is not None and not diags.error_count:
        try:
            generate(program, a.out, Options(module_name=a.module_name,
                                             include_dirs=a.include_dirs))
        except CompileError as e:
            diags.items.extend(e.diagnostics)
    diags.emit(sys.stderr)
    return 1 if diags.error_count or program is None else 0

if __name__ == "__main__":
    sys.exit(main())
