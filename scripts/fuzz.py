"""`make fuzz`: generate, build and run the libFuzzer harness of each IDL (docs/fuzzing.md).

    python -m scripts.fuzz [--runs N] [--time S] [--only NAME]... [--list]

IDLs: idl/ThriftTest.thrift (service ThriftTest, with examples/thrifttest's handler)
and every `.thrift` under `$KGEN_IDL_CORPUS/realworld/` that generates (the generated
handler skeleton). Each goes to build/fuzz/<name>/ (`thrift-kgen --fuzz`, `make fuzz`,
`make fuzz-seeds`), then its harness runs over build/fuzz/<name>/corpus (kept between
runs, so it grows) and the seeds, for --runs executions or --time seconds, whichever
ends first, one process (nice 15). Crash inputs land in build/fuzz/<name>/ as
crash-*/leak-*/timeout-*. Prints one line per harness; exit status 1 if any found
something or did not build.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUILD = REPO / "build" / "fuzz"
CORPUS = Path(os.environ.get("KGEN_IDL_CORPUS", REPO.parent / "shared" / "idl-corpus"))


def targets() -> list[dict]:
    out = [dict(name="thrift_test", idl=REPO / "idl" / "ThriftTest.thrift", service="ThriftTest",
                handler=REPO / "examples" / "thrifttest" / "thrift_test_handler.c")]
    rw = CORPUS / "realworld"
    if not rw.is_dir():
        print(f"fuzz: no {rw} (set KGEN_IDL_CORPUS): ThriftTest only", file=sys.stderr)
    for idl in sorted(rw.rglob("*.thrift")) if rw.is_dir() else []:
        name = "realworld_" + re.sub(r"[^A-Za-z0-9]+", "_", str(idl.relative_to(rw).with_suffix(""))).lower()
        out.append(dict(name=name, idl=idl, service=None, handler=None))
    return out


def generate(t: dict, out: Path) -> bool:
    out.mkdir(parents=True, exist_ok=True)
    if t["handler"]:
        shutil.copyfile(t["handler"], out / t["handler"].name)
    cmd = [sys.executable, "-m", "thrift_kgen", str(t["idl"]), "--fuzz", "-o", str(out)]
    if t["service"]:
        cmd += ["--service", t["service"]]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        print(f"{t['name']}: does not generate:\n{r.stderr[-2000:]}", file=sys.stderr)
    return r.returncode == 0


def build(out: Path) -> bool:
    for target in ("fuzz", "fuzz-seeds"):
        r = subprocess.run(["nice", "-n", "10", "make", "-C", str(out), target, f"PYTHON={sys.executable}"],
                           capture_output=True, text=True)
        if r.returncode:
            print(f"{out}: make {target} failed:\n{r.stdout[-2000:]}{r.stderr[-3000:]}", file=sys.stderr)
            return False
    return True


def parse_stats(text: str) -> dict:
    st = {}
    for key in ("number_of_executed_units", "average_exec_per_sec", "peak_rss_mb"):
        m = re.search(rf"stat::{key}:\s*(\d+)", text)
        st[key] = int(m.group(1)) if m else None
    done = re.findall(r"#\d+\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)/", text)
    if done:
        st["cov"], st["ft"], st["corp"] = (int(x) for x in done[-1])
    return st


def run(out: Path, runs: int, seconds: int, extra: list[str]) -> tuple[int, dict, float]:
    binary = next(out.glob("*_fuzz"))
    corpus = out / "corpus"
    corpus.mkdir(exist_ok=True)
    cmd = ["nice", "-n", "15", str(binary), f"-runs={runs}", f"-max_total_time={seconds}",
           "-print_final_stats=1", f"-artifact_prefix={out}/", *extra, str(corpus), str(out / "fuzz-corpus")]
    t0 = time.monotonic()
    r = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "KGEN_FUZZ_STATS": "1"})
    dt = time.monotonic() - t0
    (out / "fuzz.log").write_text(r.stderr)
    return r.returncode, parse_stats(r.stderr), dt


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=int(os.environ.get("FUZZ_RUNS") or 200000))
    ap.add_argument("--time", type=int, default=int(os.environ.get("FUZZ_TIME") or 0),
                    help="seconds per harness (0: no limit but --runs)")
    ap.add_argument("--only", action="append", default=[], help="harness name (repeatable)")
    ap.add_argument("--list", action="store_true")
    ap.add_argument("extra", nargs="*", help="more libFuzzer flags (after --)")
    a = ap.parse_args(argv)
    ts = [t for t in targets() if not a.only or t["name"] in a.only]
    if a.list:
        for t in ts:
            print(t["name"], t["idl"])
        return 0
    failed = 0
    print(f"{'harness':36} {'result':8} {'executions':>11} {'seconds':>8} {'exec/s':>7} {'cov':>6} "
          f"{'ft':>6} {'corpus':>6}")
    for t in ts:
        out = BUILD / t["name"]
        if not generate(t, out):
            continue  # an IDL the generator refuses is not a harness
        if not build(out):
            failed += 1
            print(f"{t['name']:36} {'NO BUILD':8}")
            continue
        rc, st, dt = run(out, a.runs, a.time, a.extra)
        res = "ok" if rc == 0 else "FOUND"
        failed += rc != 0
        print(f"{t['name']:36} {res:8} {st.get('number_of_executed_units') or 0:>11} {dt:>8.0f} "
              f"{st.get('average_exec_per_sec') or 0:>7} {st.get('cov', 0):>6} {st.get('ft', 0):>6} "
              f"{st.get('corp', 0):>6}", flush=True)
        if rc:
            print(f"  see {out}/fuzz.log and {out}/crash-* ", flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
