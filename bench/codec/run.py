#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""bench/codec: the generated C codecs against Apache Thrift C++, thriftpy2 and memcpy.

    .venv/bin/python bench/codec/run.py [--check] [--results DIR]

Builds codec.thrift three ways (thrift-kgen's generated C with the user-space runtime;
Debian's `thrift --gen cpp` with libthrift; thriftpy2), encodes the same values with
each in the binary and compact protocols, checks that every implementation's bytes
are identical, then (without --check) times encode, decode and encode+decode in thread
CPU time (CLOCK_THREAD_CPUTIME_ID), the median of repeated rounds, and prints a table
with ratios.  Writes bench/results/codec.json.  Host-side, not in a VM.
"""

from __future__ import annotations

import argparse
import json
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
BUILD = REPO / "bench" / "build" / "codec"
RESULTS = REPO / "bench" / "results"
VALUES = ("msg", "xtruct", "insanity", "blob")
PROTOS = ("binary", "compact")
OPS = ("encode", "decode", "roundtrip")
CFLAGS = ["-O2", "-Wall", "-Wextra", "-Werror"]


def run(cmd, **kw) -> subprocess.CompletedProcess:
    return subprocess.run([str(c) for c in cmd], check=True, **kw)


def build() -> tuple[Path, Path]:
    """Both C programs, built side by side (the C++ one takes longest)."""
    kgen_dir, apache_dir = BUILD / "kgen", BUILD / "apache"
    for d in (kgen_dir, apache_dir):
        d.mkdir(parents=True, exist_ok=True)
    run(["thrift", "--gen", "cpp", "-out", apache_dir, HERE / "codec.thrift"])
    apache = BUILD / "apache-codec"
    cxx = subprocess.Popen([str(c) for c in [
        "g++", "-std=c++17", *CFLAGS, f"-I{apache_dir}", f"-I{HERE}", "-o", apache,
        HERE / "apache_codec.cpp", apache_dir / "codec_types.cpp", "-l:libthrift.a"]])
    try:
        run([REPO / ".venv" / "bin" / "thrift-kgen", HERE / "codec.thrift", "-o", kgen_dir],
            stdout=subprocess.DEVNULL)
        run(["make", "-s", "-C", kgen_dir / "runtime"], stdout=subprocess.DEVNULL)
        kgen = BUILD / "kgen-codec"
        run(["gcc", "-std=gnu11", *CFLAGS, "-Wno-unused-parameter", "-D_GNU_SOURCE",
             f"-I{kgen_dir / 'runtime' / 'include'}", f"-I{kgen_dir}", f"-I{HERE}", "-o", kgen,
             HERE / "kgen_codec.c", kgen_dir / "codec_types.c",
             kgen_dir / "runtime" / "build" / "user" / "libkgen.a"])
    finally:
        if cxx.wait():
            raise SystemExit("building apache-codec failed")
    return kgen, apache


def measure(kgen: Path, apache: Path, out: Path, check: bool) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    for f in out.glob("*.bin"):
        f.unlink()
    rows = []
    for cmd in ([kgen, out], [apache, out],
                [REPO / ".venv" / "bin" / "python", HERE / "py_codec.py", out]):
        cmd = cmd + (["0"] if check and cmd[0].name == "python" else ["check"] if check else [])
        p = run(cmd, stdout=subprocess.PIPE, text=True)
        rows += [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    return rows


def compare(out: Path) -> dict:
    """Every implementation's encoding of each value, byte for byte; returns the sizes."""
    sizes = {}
    for proto in PROTOS:
        for value in VALUES:
            files = sorted(out.glob(f"*-{proto}-{value}.bin"))
            impls = [f.name[: -len(f"-{proto}-{value}.bin")] for f in files]
            if sorted(impls) != ["apache", "apache-tmpl", "kgen", "thriftpy2"]:
                raise SystemExit(f"{proto} {value}: encodings from {impls}")
            blobs = {i: f.read_bytes() for i, f in zip(impls, files)}
            if len(set(blobs.values())) != 1:
                ref = blobs["apache"]
                diff = {i: next((k for k, (a, b) in enumerate(zip(b, ref)) if a != b), min(len(b), len(ref)))
                        for i, b in blobs.items() if b != ref}
                raise SystemExit(f"{proto} {value}: encodings differ from Apache's at byte {diff}"
                                 f" (lengths { {i: len(b) for i, b in blobs.items()} })")
            sizes[f"{proto}/{value}"] = len(blobs["apache"])
    return sizes


def table(rows: list[dict]) -> str:
    by = {(r["impl"], r["proto"], r["value"], r["op"]): r["ns"] for r in rows}
    lines = []
    for proto in PROTOS:
        lines.append(f"\n{proto}: ns per operation (median), and Apache C++ / thrift-kgen")
        head = (f"{'value':>9} {'op':>10} {'kgen':>10} {'kgen sized':>10} {'kgen reply':>10}"
                f" {'apache':>10} {'apache-t':>10}"
                f" {'thriftpy2':>11} {'memcpy':>9} {'apache/kgen':>11} {'apache-t/kgen':>13}")
        lines.append(head)
        for value in VALUES:
            for op in OPS:
                k = by[("kgen", proto, value, op)]
                sized = by.get(("kgen", proto, value, "encode_sized")) if op == "encode" else None
                reply = by.get(("kgen", proto, value, "encode_reply")) if op == "encode" else None
                a, at = by[("apache", proto, value, op)], by[("apache-tmpl", proto, value, op)]
                py = by[("thriftpy2", proto, value, op)]
                mc = by[("memcpy", proto, value, "encode")] if op == "encode" else None
                lines.append(f"{value:>9} {op:>10} {k:>10.1f} {sized if sized else float('nan'):>10.1f}"
                             f" {reply if reply else float('nan'):>10.1f}"
                             f" {a:>10.1f} {at:>10.1f} {py:>11.1f}"
                             f" {mc if mc else float('nan'):>9.1f} {a / k:>11.2f} {at / k:>13.2f}")
    return "\n".join(lines)


def cpu_model() -> str:
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="build and compare encodings only, no timing")
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument("--out", type=Path, default=BUILD / "enc", help="where the encodings go")
    args = ap.parse_args()
    kgen, apache = build()
    t0 = time.monotonic()
    rows = measure(kgen, apache, args.out, args.check)
    sizes = compare(args.out)
    print(f"encodings identical across kgen, Apache C++ (2 builds), thriftpy2: {sizes}")
    if args.check:
        return 0
    print(table(rows))
    args.results.mkdir(parents=True, exist_ok=True)
    (args.results / "codec.json").write_text(json.dumps({
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "cpu": cpu_model(),
        "seconds": round(time.monotonic() - t0, 1), "sizes": sizes, "rows": rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
