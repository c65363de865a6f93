# SPDX-License-Identifier: GPL-2.0
"""Run the examples' checks against running servers (in the VM guest, or anywhere).

One server:

    python -m clients.run EXAMPLE --port P [--transport T] [--where kernel|user]
                          [--extra key=value]... [--workdir DIR] [--only NAME]...

Kernel modules, one after the other, in one Python process (a Python start costs
seconds in a VM without KVM):

    python -m clients.run --plan PLAN.json --out DIR

PLAN.json is a list of {"tag", "example", "ko", "module", "params", "transport",
"extra"}: each module is loaded with `insmod ko params`, its example's checks run
against port 9090, and it is unloaded with `rmmod`; DIR/<tag>.log gets the check lines,
"rc N", "rmmod N" (and "still loaded" if it was not unloaded).

Check lines: "PASS <name> (<seconds> s)" or "FAIL <name>: <error>" followed by the
traceback, then "SUMMARY <passed>/<total> ...".  The host tests call the same check
functions directly.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

from .common import Target


def checks_of(example: str):
    return importlib.import_module(f"clients.{example}").CHECKS


def run_checks(example: str, t: Target, workdir: Path, out=sys.stdout, only=()) -> int:
    """Run the checks, print their lines to `out`; returns the number that failed."""
    failed = 0
    checks = [c for c in checks_of(example) if not only or c.__name__ in only]
    for check in checks:
        t0 = time.monotonic()
        try:
            check(t, workdir)
        except BaseException as e:  # noqa: BLE001 - report everything, go on
            failed += 1
            print(f"FAIL {check.__name__}: {type(e).__name__}: {str(e)[:2000]}", file=out, flush=True)
            traceback.print_exc(file=out)
            if isinstance(e, KeyboardInterrupt):
                raise
        else:
            print(f"PASS {check.__name__} ({time.monotonic() - t0:.2f} s)", file=out, flush=True)
    print(f"SUMMARY {len(checks) - failed}/{len(checks)} {example} {t.transport} {t.where}",
          file=out, flush=True)
    return failed


def run_plan(plan: list[dict], outdir: Path) -> int:
    bad = 0
    for step in plan:
        tag = step["tag"]
        with open(outdir / f"{tag}.log", "w") as log:
            print(f"=== {tag}", flush=True)
            r = subprocess.run(["insmod", step["ko"], *step["params"].split()],
                               capture_output=True, text=True)
            if r.returncode:
                print(f"insmod failed: {r.returncode} {r.stderr}", file=log, flush=True)
                bad += 1
                continue
            # Make sure the module's own output (e.g. per-check prints) lands in the log.
            old = sys.stdout
            sys.stdout = log
            try:
                t = Target(port=9090, transport=step["transport"], extra=step.get("extra", {}),
                           where="kernel")
                failed = run_checks(step["example"], t, Path(tempfile.mkdtemp(prefix=f"{tag}-")), log)
            finally:
                sys.stdout = old
            print(f"rc {1 if failed else 0}", file=log, flush=True)
            mod = step["module"]
            stats = Path(f"/sys/kernel/debug/{mod}/stats")
            if stats.exists():
                (outdir / f"{tag}.stats").write_text(stats.read_text())
            r = subprocess.run(["rmmod", mod], capture_output=True, text=True)
            print(f"rmmod {r.returncode} {r.stderr.strip()}", file=log, flush=True)
            if os.path.exists(f"/sys/module/{mod}"):
                print("still loaded", file=log, flush=True)
            bad += bool(failed or r.returncode)
    return 1 if bad else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(prog="clients.run")
    ap.add_argument("example", nargs="?")
    ap.add_argument("--port", type=int)
    ap.add_argument("--transport", default="framed")
    ap.add_argument("--where", default="kernel")
    ap.add_argument("--extra", action="append", default=[])
    ap.add_argument("--workdir")
    ap.add_argument("--only", action="append", default=[])
    ap.add_argument("--plan")
    ap.add_argument("--out")
    a = ap.parse_args(argv)
    if a.plan:
        return run_plan(json.loads(Path(a.plan).read_text()), Path(a.out))
    if not a.example or a.port is None:
        ap.error("EXAMPLE and --port, or --plan")
    extra = {}
    for kv in a.extra:
        k, _, v = kv.partition("=")
        extra[k] = int(v) if v.lstrip("-").isdigit() else v
    t = Target(port=a.port, transport=a.transport, extra=extra, where=a.where)
    workdir = Path(a.workdir or tempfile.mkdtemp(prefix=f"kgen-{a.example}-"))
    return 1 if run_checks(a.example, t, workdir, only=a.only) else 0


if __name__ == "__main__":
    sys.exit(main())
