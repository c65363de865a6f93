# SPDX-License-Identifier: GPL-2.0
"""Run an example's checks against a running server (in the VM guest, or anywhere):

    python -m clients.run EXAMPLE --port P [--transport T] [--where kernel|user]
                          [--extra key=value]... [--workdir DIR] [--only NAME]...

Prints one line per check, "PASS <name> (<seconds> s)" or "FAIL <name>: <error>"
followed by the traceback, then "SUMMARY <passed>/<total>"; exits 1 if any failed.
The host tests call the same check functions directly.
"""

from __future__ import annotations

import argparse
import importlib
import sys
import tempfile
import time
import traceback
from pathlib import Path

from .common import Target


def checks_of(example: str):
    return importlib.import_module(f"clients.{example}").CHECKS


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="clients.run")
    ap.add_argument("example")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--transport", default="framed")
    ap.add_argument("--where", default="kernel")
    ap.add_argument("--extra", action="append", default=[])
    ap.add_argument("--workdir")
    ap.add_argument("--only", action="append", default=[])
    a = ap.parse_args(argv)
    extra = {}
    for kv in a.extra:
        k, _, v = kv.partition("=")
        extra[k] = int(v) if v.isdigit() else v
    t = Target(port=a.port, transport=a.transport, extra=extra, where=a.where)
    workdir = Path(a.workdir or tempfile.mkdtemp(prefix=f"kgen-{a.example}-"))
    failed = 0
    checks = [c for c in checks_of(a.example) if not a.only or c.__name__ in a.only]
    for check in checks:
        t0 = time.monotonic()
        try:
            check(t, workdir)
        except BaseException as e:  # noqa: BLE001 - report everything, go on
            failed += 1
            print(f"FAIL {check.__name__}: {type(e).__name__}: {str(e)[:2000]}", flush=True)
            traceback.print_exc(file=sys.stdout)
            if isinstance(e, KeyboardInterrupt):
                raise
        else:
            print(f"PASS {check.__name__} ({time.monotonic() - t0:.2f} s)", flush=True)
    print(f"SUMMARY {len(checks) - failed}/{len(checks)} {a.example} {a.transport} {a.where}", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
